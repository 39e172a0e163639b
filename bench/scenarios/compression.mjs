// Compression (`compress=gzip|br`): bytes stored in Redis and the cost of a set + get round trip of a ~20 KB
// JSON document, against the same instance without compression (anchor). Informational: no target.
import { Redis } from 'ioredis';

export const name = 'compression';
export const description = 'set + get of a ~20 KB JSON value, redis://, uncompressed vs gzip vs br';

const CONCURRENCY = 20;
const VALUE = {
  items: Array.from({ length: 150 }, (_, i) => ({
    sku: `sku-${i}`,
    name: `Shirt model ${i % 17}`,
    colour: ['red', 'blue', 'green'][i % 3],
    price: 10 + (i % 40),
    tags: ['summer', 'cotton'],
  })),
};

async function roundTrips(n, cache, keys) {
  const perCaller = Math.max(1, Math.round(n / CONCURRENCY));
  const caller = async (w) => {
    for (let j = 0; j < perCaller; j++) {
      const key = keys[(w + j) % keys.length];
      await cache.set(key, VALUE, { ttl: '10m' });
      const back = await cache.get(key);
      if (!back || back.items.length !== VALUE.items.length) throw new Error(`round trip of ${key} failed`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => caller(w)));
}

export async function run(ctx) {
  const url = ctx.redisUrl();
  const { createCache } = await ctx.lib('createCache');
  const raw = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 1 });
  raw.on('error', () => undefined);
  try {
    await raw.connect();
  } catch (error) {
    raw.disconnect();
    throw ctx.skip(`Redis not reachable: ${error.message}`);
  }
  const prefix = `bench:nestjs-cashews:${process.pid}:${Date.now()}:`;
  const withParam = (params) => {
    const u = new URL(url);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return u.toString();
  };
  const variants = [
    { name: 'uncompressed', url },
    { name: 'gzip', url: withParam({ compress: 'gzip' }) },
    { name: 'br', url: withParam({ compress: 'br' }) },
  ];
  const caches = [];
  const allKeys = [];
  try {
    const contenders = [];
    const json = JSON.stringify(VALUE).length;
    for (const variant of variants) {
      const cache = await createCache(variant.url);
      caches.push(cache);
      const keys = Array.from({ length: CONCURRENCY }, (_, i) => `${prefix}${variant.name}:${i}`);
      allKeys.push(...keys);
      await cache.set(keys[0], VALUE, { ttl: '10m' });
      const stored = await raw.strlen(keys[0]);
      ctx.log(
        `  ${variant.name}: ${stored} bytes stored for ${json} bytes of JSON (${((100 * stored) / json).toFixed(1)}%)`,
      );
      contenders.push({
        name: variant.name,
        note: `set + get, ${stored} bytes stored`,
        quantum: CONCURRENCY,
        batch: (n) => roundTrips(n, cache, keys),
      });
    }
    return await ctx.compare({ anchor: 'uncompressed', contenders });
  } finally {
    if (allKeys.length) await raw.del(...allKeys).catch(() => undefined);
    await Promise.all(caches.map((cache) => cache.close()));
    await raw.quit().catch(() => raw.disconnect());
  }
}
