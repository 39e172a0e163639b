// A cached GET answered by our @Cache vs @nestjs/cache-manager's CacheInterceptor (both in memory), with a
// constant handler of an app without any cache as the ceiling: interleaved paired rounds.
import { closeClients, httpContender, startApp } from '../http/apps.mjs';

export const name = 'http-vs-cache-manager';
export const description = 'HTTP: @Cache hit vs @nestjs/cache-manager CacheInterceptor hit, memory (req/s)';

export async function run(ctx) {
  await ctx.lib('CashewsModule');
  const cacheManager = await startApp('cache-manager');
  const cashews = await startApp('cashews');
  const plain = await startApp('plain');
  try {
    return await ctx.compare({
      anchor: '@nestjs/cache-manager hit',
      contenders: [
        httpContender('@nestjs/cache-manager hit', `${cacheManager.base}/p/cached`),
        httpContender('nestjs-cashews hit', `${cashews.base}/p/cached`),
        httpContender('constant handler, no cache', `${plain.base}/p/const`),
      ],
      targets: [{ contender: 'nestjs-cashews hit', min: 1.15, label: '>= 1.15x cache-manager' }],
      pairs: [['nestjs-cashews hit', 'constant handler, no cache']],
    });
  } finally {
    closeClients();
    await Promise.all([cacheManager.stop(), cashews.stop(), plain.stop()]);
  }
}
