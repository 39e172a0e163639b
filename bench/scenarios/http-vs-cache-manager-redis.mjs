// A cached GET on Redis answered by our @Cache (redis://) vs @nestjs/cache-manager's CacheInterceptor on Keyv +
// @keyv/redis, interleaved paired rounds (issue #15: ">= 1.15x, memory and Redis"). Both apps read one entry of
// the same Redis database under names of this run, deleted afterwards.
import { deleteRedisKeysMatching, redisKeysMatching } from '../harness.mjs';
import { closeClients, compareHttp, load, startApp } from '../http/apps.mjs';

export const name = 'http-vs-cache-manager-redis';
export const description = 'HTTP: @Cache hit vs @nestjs/cache-manager CacheInterceptor hit, both on Redis (req/s)';

export async function run(ctx) {
  const url = ctx.redisUrl();
  await ctx.lib('CashewsModule');
  const raw = await ctx.rawRedis();
  // Each app's keys under a name of this run: Keyv writes `<namespace>::<namespace>:<url>`, the cashews app
  // `<prefix>:ProductsController:…`; exactly those are deleted afterwards.
  const namespace = `nestjs-cashews-bench-http-${process.pid}-${Date.now()}`;
  const prefix = `${namespace}-ours`;
  const cacheManager = await startApp('cache-manager-redis', url, { BENCH_KEYV_NAMESPACE: namespace });
  const cashews = await startApp('cashews', url, { BENCH_KEY_PREFIX: prefix });
  // The ceiling of any cached route: a handler answering a constant, in an app without any cache.
  const plain = await startApp('plain');
  try {
    // Both entries exist before the first measured request (the warm-up round reads them as hits).
    await load(`${cacheManager.base}/p/cached`, 2);
    await load(`${cashews.base}/p/cached`, 2);
    // Each app stored its entry in Redis (a hit read from anywhere else would not measure a Redis hit).
    for (const pattern of [`${prefix}:*`, `${namespace}::*`]) {
      const stored = await redisKeysMatching(raw, pattern);
      if (stored.length !== 1)
        throw new Error(`expected one entry under ${pattern} after the warm-up, found ${stored.length}`);
    }
    return await compareHttp(ctx, {
      anchor: '@nestjs/cache-manager hit (Redis)',
      contenders: [
        { name: '@nestjs/cache-manager hit (Redis)', url: `${cacheManager.base}/p/cached` },
        { name: 'nestjs-cashews hit (Redis)', url: `${cashews.base}/p/cached` },
        {
          name: 'constant handler, no cache',
          url: `${plain.base}/p/const`,
          note: 'no Redis read at all: the ceiling of any cached route (informational)',
        },
      ],
      targets: [{ contender: 'nestjs-cashews hit (Redis)', min: 1.15, label: '>= 1.15x cache-manager' }],
      pairs: [['nestjs-cashews hit (Redis)', 'constant handler, no cache']],
    });
  } finally {
    closeClients();
    await Promise.all([cacheManager.stop(), cashews.stop(), plain.stop()]);
    await deleteRedisKeysMatching(raw, `${prefix}:*`);
    await deleteRedisKeysMatching(raw, `${namespace}::*`);
    await raw.quit().catch(() => raw.disconnect());
  }
}
