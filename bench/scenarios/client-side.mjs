// Client-side cache (`?client_side=1`): a local hit against a plain Redis hit measured side by side, and how
// long a write in another process takes to become visible to reads here.
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { LRUCache } from 'lru-cache';

export const name = 'client-side';
export const description = 'redis://?client_side=1: local hit vs Redis hit; cross-process invalidation latency';

const CONCURRENCY = 100;
const VALUE = { id: 1, name: 'x', tags: ['a', 'b'] };
const SAMPLES = 300;

const withClientSide = (url) => `${url}${url.includes('?') ? '&' : '?'}client_side=1`;

/** `n` gets as CONCURRENCY async loops of sequential gets (the redis-get-concurrent method); counts misses. */
async function concurrently(n, keys, get, who) {
  const perCaller = Math.max(1, Math.round(n / CONCURRENCY));
  let misses = 0;
  const caller = async (w) => {
    for (let j = 0; j < perCaller; j++) if ((await get(keys[(w + j) % keys.length])) === undefined) misses++;
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => caller(w)));
  if (misses) throw new Error(`${who}: ${misses} of ${perCaller * CONCURRENCY} gets missed`);
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/**
 * Invalidation latency: a child process writes `{ i, at }` SAMPLES times (every 5 ms) through its own client-side
 * cache; this process reads the key in a loop (one `get` per macrotask turn, served locally between writes) and,
 * the first time it sees each new `i`, records `now - at` (both clocks are performance.timeOrigin + now() on the
 * same machine). Writes this process never saw (overtaken by the next one) count as lost.
 */
async function invalidationLatency(lib, url, prefix) {
  const reader = await lib.createCache(url);
  const key = `${prefix}latency`;
  const child = fileURLToPath(new URL('../client-side-child.mjs', import.meta.url));
  const libUrl = new URL('../../dist/esm/entry.js', import.meta.url).href;
  const latencies = [];
  let last = 0;
  let done = false;
  const writer = new Promise((resolve, reject) =>
    execFile(process.execPath, [child, libUrl, url, key, String(SAMPLES), '5'], { timeout: 60_000 }, (error) =>
      error ? reject(error) : resolve(),
    ),
  ).finally(() => (done = true));
  let localHits = 0;
  try {
    while (!done) {
      const value = await reader.get(key);
      if (value && value.i !== last) {
        latencies.push(performance.timeOrigin + performance.now() - value.at);
        last = value.i;
      } else if (value) localHits++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await writer;
  } finally {
    await reader.delete(key);
    await reader.close();
  }
  latencies.sort((a, b) => a - b);
  return { latencies, lost: SAMPLES - latencies.length, localHits };
}

export async function run(ctx) {
  const url = ctx.redisUrl();
  const lib = await ctx.lib('createCache', 'ClientSideBackend');
  let plain;
  let local;
  try {
    plain = await lib.createCache(url);
    await plain.ping();
  } catch (error) {
    await plain?.close();
    throw ctx.skip(`Redis not reachable: ${error?.message ?? error}`);
  }
  const prefix = `bench:client-side:${process.pid}:${Date.now()}:`;
  const keys = Array.from({ length: CONCURRENCY }, (_, i) => `${prefix}${i}`);
  try {
    local = await lib.createCache(withClientSide(url));
    for (const key of keys) await plain.set(key, VALUE, { ttl: '10m' });
    for (const key of keys) await local.get(key); // fill the local layer
    if (local.backend.localSize !== keys.length) throw new Error(`local layer holds ${local.backend.localSize} keys`);

    // The ceiling of any promise-returning local read at these callers: the same keys in a bare lru-cache, awaited.
    const bare = new LRUCache({ max: keys.length });
    for (const key of keys) bare.set(key, VALUE);

    const compared = await ctx.compare({
      anchor: 'redis hit',
      contenders: [
        {
          name: 'redis hit',
          note: 'await cache.get(key) on plain redis:// (one round trip per get), 100 concurrent callers',
          quantum: CONCURRENCY,
          batch: (n) => concurrently(n, keys, (key) => plain.get(key), 'redis hit'),
        },
        {
          name: 'client-side hit',
          note: 'await cache.get(key) on redis://?client_side=1, values in the local layer, same callers',
          quantum: CONCURRENCY,
          batch: (n) => concurrently(n, keys, (key) => local.get(key), 'client-side hit'),
        },
        {
          name: 'await lru.get()',
          note: 'the same callers awaiting a bare lru-cache: the ceiling of any promise-returning local read (informational)',
          quantum: CONCURRENCY,
          batch: (n) => concurrently(n, keys, (key) => bare.get(key), 'await lru.get()'),
        },
      ],
      pairs: [['client-side hit', 'await lru.get()']],
      targets: [{ contender: 'client-side hit', min: 20, label: '>= 20x a Redis hit' }],
    });

    const { latencies, lost, localHits } = await invalidationLatency(lib, withClientSide(url), prefix);
    const fmt = (ms) => `${ms.toFixed(2)} ms`;
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const max = latencies[latencies.length - 1];
    ctx.log(
      `  invalidation latency over ${latencies.length} writes: p50 ${fmt(p50)}, p99 ${fmt(p99)}, max ${fmt(max)}; ` +
        `${lost} writes overtaken before being seen; ${localHits} local reads between writes — ` +
        `target p99 < 10 ms: ${p99 < 10 ? 'PASS' : 'FAIL'}`,
    );
    compared.targets.push({
      contender: 'invalidation p99',
      anchor: 'write in another process',
      min: 10,
      label: 'cross-process invalidation p99 < 10 ms',
      actual: p99,
      pass: p99 < 10,
    });
    compared.invalidation = { samples: latencies.length, lost, localHits, p50, p99, max };
    return compared;
  } finally {
    await plain.deleteMany(keys).catch(() => undefined);
    await local?.close();
    await plain.close();
  }
}
