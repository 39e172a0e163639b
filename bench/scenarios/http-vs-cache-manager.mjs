// A cached GET answered by our @Cache vs @nestjs/cache-manager's CacheInterceptor (both in memory), with a
// constant handler of an app without any cache as the ceiling, and the same @Cache handler with directRoutes: false
// (on its interceptor, what direct routes save): interleaved paired rounds.
import { closeClients, compareHttp, startApp } from '../http/apps.mjs';

export const name = 'http-vs-cache-manager';
export const description = 'HTTP: @Cache hit vs @nestjs/cache-manager CacheInterceptor hit, memory (req/s)';

export async function run(ctx) {
  await ctx.lib('CashewsModule');
  const cacheManager = await startApp('cache-manager');
  const cashews = await startApp('cashews');
  const interceptor = await startApp('cashews-interceptor');
  const plain = await startApp('plain');
  try {
    return await compareHttp(ctx, {
      anchor: '@nestjs/cache-manager hit',
      contenders: [
        { name: '@nestjs/cache-manager hit', url: `${cacheManager.base}/p/cached` },
        { name: 'nestjs-cashews hit', url: `${cashews.base}/p/cached` },
        { name: 'constant handler, no cache', url: `${plain.base}/p/const` },
        {
          name: 'nestjs-cashews hit, directRoutes: false',
          url: `${interceptor.base}/p/cached`,
          note: 'the same @Cache handler run by its interceptor (informational: what direct routes save)',
        },
      ],
      targets: [{ contender: 'nestjs-cashews hit', min: 1.15, label: '>= 1.15x cache-manager' }],
      pairs: [
        ['nestjs-cashews hit', 'constant handler, no cache'],
        ['nestjs-cashews hit', 'nestjs-cashews hit, directRoutes: false'],
      ],
    });
  } finally {
    closeClients();
    await Promise.all([cacheManager.stop(), cashews.stop(), interceptor.stop(), plain.stop()]);
  }
}
