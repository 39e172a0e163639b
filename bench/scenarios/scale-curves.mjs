// Scale curves: what one `get` hit costs as the number of concurrent callers grows (1 → 1,000) and as the
// keyspace grows (1k → 1M keys), on mem:// and redis://, through CacheService.get and through a provider
// method decorated with @Cache (on memory also `await lru.get()` on a raw lru-cache, as a floor).
// Informational (no target): prints a table and writes an SVG chart to bench/results/scale-curves.svg.
//
// Cost per call = wall time of a batch / calls in it, all callers together (the inverse of throughput).
// Keys are read in a pseudo-random order over the whole keyspace, so a large keyspace cannot hide in the CPU
// caches. Every read is checked: a miss (or a run of the decorated method) throws, it can never look fast.
import 'reflect-metadata';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LRUCache } from 'lru-cache';
import { fullGc, median } from '../harness.mjs';
import { renderScaleChart } from '../scale-chart.mjs';

export const name = 'scale-curves';
export const description =
  'cost per get hit vs concurrent callers (1..1000) and keyspace (1k..1M), mem:// and redis://';

const CALLERS = [1, 10, 100, 1000];
/** The concurrency curve reads this many keys; the keyspace curve runs at this many callers. */
const CURVE_KEYS = 10_000;
const CURVE_CALLERS = 100;
/** BENCH_SCALE_MAX_KEYS lowers the largest keyspace (e.g. 100000 on a small machine). */
const MAX_KEYS = Math.max(CURVE_KEYS, Number(process.env.BENCH_SCALE_MAX_KEYS) || 1_000_000);
const KEYSPACES = [1_000, 10_000, 100_000, 1_000_000].filter((k) => k <= MAX_KEYS);
/** Short rounds: 16 to 24 points per backend, and the whole scenario should stay around a minute. */
const ROUNDS = 5;
const ROUND_MS = 100;
const TTL_MS = 600_000;
const FILL_BATCH = 10_000;
/** Keys per fill script on Redis: ~5k SETs keep each script's hold on the (shared) server to milliseconds. */
const REDIS_FILL_BATCH = 5_000;
const FILL_SCRIPT = "for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2]) end return #KEYS";
const VALUE = { id: 1, name: 'x', tags: ['a', 'b'] };
/** Memory adds a floor: `await lru.get(key)` on a raw lru-cache holding the same keys (growth that is not ours). */
const PATHS = { memory: ['get', '@Cache', 'lru-cache'], redis: ['get', '@Cache'] };

/** xorshift32: a key index per call for a few nanoseconds, the same cost at every keyspace. */
let seed = 0x9e3779b9;
function nextIndex(keys) {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % keys;
}

/** Runs `n` calls as `callers` async loops of n / callers sequential calls over the first `keys` keys. */
async function concurrently(n, callers, keys, call, who) {
  const perCaller = Math.max(1, Math.round(n / callers));
  let misses = 0;
  const caller = async () => {
    for (let j = 0; j < perCaller; j++) {
      if ((await call(nextIndex(keys))) === undefined) misses++;
    }
  };
  await Promise.all(Array.from({ length: callers }, caller));
  if (misses) throw new Error(`${who}: ${misses} of ${perCaller * callers} calls missed`);
}

/**
 * Key i of a backend, `${prefix}${i}`, built once when first asked (the fills ask in order, so the list grows
 * without holes). Built as the keyspace grows, not a million up front: every batch starts with a full GC, and
 * a million strings in the heap from the start would make the small points pay for the large one.
 */
function keyNames(prefix) {
  const names = [];
  return (i) => names[i] ?? (names[i] = `${prefix}${i}`);
}

/** A provider whose `find(id)` is cached under exactly the key CacheService reads: `${prefix}${id}`. */
function productsClass(lib, prefix) {
  class Products {
    loads = 0;
    async find(id) {
      if (!Number.isInteger(id)) throw new Error(`find(${id}): not a key index`);
      this.loads++;
      return VALUE;
    }
  }
  const find = Object.getOwnPropertyDescriptor(Products.prototype, 'find');
  lib.Cache({ ttl: TTL_MS, key: `${prefix}{id}` })(Products.prototype, 'find', find);
  Injectable()(Products);
  return Products;
}

async function startApp(lib, url, prefix) {
  const Products = productsClass(lib, prefix);
  class ScaleModule {}
  Module({ imports: [lib.CashewsModule.forRoot(url)], providers: [Products] })(ScaleModule);
  const app = await NestFactory.createApplicationContext(ScaleModule, { logger: false });
  return { app, cache: app.get(lib.CacheService), products: app.get(Products) };
}

/**
 * Measures one backend. `storeFor(keys)` answers a store ({ cache, products }) holding keys [0, keys), filling
 * it first if needed. Each curve's points run in one compare: interleaved rounds, so every point meets the same
 * machine, and each point's cost is also given as a paired per-round ratio against the curve's first point.
 */
async function measureBackend(ctx, backend, keyOf, storeFor) {
  const paths = PATHS[backend];
  // No full GC before each batch (the harness default): with a million entries in the heap it takes ~0.5 s and
  // leaves the next tens of milliseconds slow, which a 100 ms batch would book as the cost of a get. One full GC
  // after the fills instead; calibration and warm-up absorb its aftermath.
  const opts = {
    rounds: Math.min(ctx.rounds, ROUNDS),
    roundMs: Math.min(ctx.roundMs, ROUND_MS),
    log: () => {},
    gc: false,
  };
  const contender = (name, path, { cache, products, lru }, callers, keys) => {
    const call =
      path === 'get'
        ? (i) => cache.get(keyOf(i))
        : path === '@Cache'
          ? (i) => products.find(i)
          : (i) => lru.get(keyOf(i));
    return { name, quantum: callers, batch: (n) => concurrently(n, callers, keys, call, `${backend} ${path}`) };
  };
  const points = [];
  const collect = (curve, result, xs, nameOf) => {
    for (const path of paths) {
      const first = result.contenders.find((c) => c.name === nameOf(path, xs[0])).opsPerSec.rounds;
      for (const x of xs) {
        const c = result.contenders.find((o) => o.name === nameOf(path, x));
        const nsPerCall = { median: 1e9 / c.opsPerSec.median, min: 1e9 / c.opsPerSec.max, max: 1e9 / c.opsPerSec.min };
        // Cost against the same path at the curve's first point, paired per round: the least noisy figure.
        const vsFirst = median(c.opsPerSec.rounds.map((ops, r) => first[r] / ops));
        points.push({ backend, path, curve, x, nsPerCall, vsFirst });
      }
    }
  };
  const loaded = async (keys) => {
    const t0 = Date.now();
    const store = await storeFor(keys);
    const sample = await store.cache.get(keyOf(keys - 1));
    if (JSON.stringify(sample) !== JSON.stringify(VALUE)) throw new Error(`${backend}: fill answered ${sample}`);
    ctx.log(`  ${backend}: ${fmtCount(keys)} keys stored (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    return store;
  };
  const checkNoLoads = async (stores, run) => {
    const before = stores.map((s) => s.products.loads);
    const result = await run();
    stores.forEach((s, i) => {
      const runs = s.products.loads - before[i];
      if (runs) throw new Error(`${backend}: the decorated method ran ${runs}x: a hit was a miss`);
    });
    return result;
  };

  // Concurrency curve, at CURVE_KEYS keys, while the heap is still small.
  let t0 = Date.now();
  const curveStore = await loaded(CURVE_KEYS);
  fullGc();
  const byCallers = await checkNoLoads([curveStore], () =>
    ctx.compare(
      {
        anchor: `get x${CALLERS[0]}`,
        contenders: paths.flatMap((path) =>
          CALLERS.map((n) => contender(`${path} x${n}`, path, curveStore, n, CURVE_KEYS)),
        ),
      },
      opts,
    ),
  );
  collect('concurrency', byCallers, CALLERS, (path, n) => `${path} x${n}`);
  ctx.log(`  ${backend}: concurrency curve measured (${((Date.now() - t0) / 1000).toFixed(1)}s)`);

  // Keyspace curve: every keyspace stored at once, measured in interleaved rounds.
  t0 = Date.now();
  const stores = [];
  for (const keys of KEYSPACES) stores.push(await loaded(keys));
  fullGc();
  const byKeys = await checkNoLoads(stores, () =>
    ctx.compare(
      {
        anchor: `get ${KEYSPACES[0]}`,
        contenders: paths.flatMap((path) =>
          KEYSPACES.map((keys, i) => contender(`${path} ${keys}`, path, stores[i], CURVE_CALLERS, keys)),
        ),
      },
      opts,
    ),
  );
  collect('keyspace', byKeys, KEYSPACES, (path, keys) => `${path} ${keys}`);
  ctx.log(`  ${backend}: keyspace curve measured (${((Date.now() - t0) / 1000).toFixed(1)}s with the fills)`);
  return points;
}

/** mem://: one store (a Nest app with its own @Cache provider, and a raw lru-cache) per keyspace, sized to it. */
async function memoryCurves(ctx, lib, prefix) {
  const keyOf = keyNames(prefix);
  const apps = new Map();
  try {
    return await measureBackend(ctx, 'memory', keyOf, async (keys) => {
      if (apps.has(keys)) return apps.get(keys);
      const running = await startApp(lib, `mem://?size=${keys}`, prefix);
      running.lru = new LRUCache({ max: keys, ttl: TTL_MS });
      apps.set(keys, running);
      for (let start = 0; start < keys; start += FILL_BATCH) {
        const end = Math.min(keys, start + FILL_BATCH);
        const entries = Array.from({ length: end - start }, (_, j) => [keyOf(start + j), VALUE]);
        await running.cache.setMany(entries, { ttl: TTL_MS });
        for (const [key, value] of entries) running.lru.set(key, value);
      }
      return running;
    });
  } finally {
    for (const running of apps.values()) await running.app.close();
  }
}

async function redisCurves(ctx, lib, prefix) {
  const keyOf = keyNames(prefix);
  const url = ctx.redisUrl();
  const raw = await ctx.rawRedis();
  let filled = 0;
  let running;
  try {
    running = await startApp(lib, url, prefix);
    // The bytes CacheService writes for VALUE (the codec does not depend on the key), stored by a script that
    // SETs a batch of keys with their TTL server-side: a million set() calls, or a million pipelined SETs,
    // would take most of the time budget, and MSET cannot give the keys a TTL.
    filled = 1;
    if ((await running.cache.set(keyOf(0), VALUE, { ttl: TTL_MS })) === false) throw new Error('set failed');
    const encoded = await raw.getBuffer(keyOf(0));
    // One database: the keyspace-k point reads keys [0, k) of the keys stored so far.
    return await measureBackend(ctx, 'redis', keyOf, async (to) => {
      for (let start = filled; start < to; start += REDIS_FILL_BATCH) {
        const end = Math.min(to, start + REDIS_FILL_BATCH);
        const keys = Array.from({ length: end - start }, (_, j) => keyOf(start + j));
        filled = end; // before the call: a batch that failed half-way is deleted too
        const stored = await raw.eval(FILL_SCRIPT, keys.length, ...keys, encoded, TTL_MS);
        if (stored !== keys.length) throw new Error(`fill stored ${stored} of ${keys.length} keys`);
      }
      return running;
    });
  } finally {
    // Exactly the keys written here (each also carries a 10 minute TTL, should this cleanup not run).
    for (let start = 0; start < filled; start += FILL_BATCH) {
      const keys = Array.from({ length: Math.min(filled, start + FILL_BATCH) - start }, (_, j) => keyOf(start + j));
      await raw.unlink(...keys).catch(() => undefined);
    }
    await running?.app.close();
    await raw.quit().catch(() => raw.disconnect());
  }
}

// ---------------------------------------------------------------------------------------------------
// Report

const fmtUs = (ns) => {
  const us = ns / 1000;
  return us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2);
};
const fmtCount = (n) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** One table: a row per point, a column per backend × path: median µs per call (paired ratio to the first point). */
function formatTable(points, series) {
  const header = ['point', ...series.map((s) => `${s.backend} ${s.path}`)];
  const rows = [];
  for (const [curve, xs, label] of [
    ['concurrency', CALLERS, (x) => `${x} caller${x === 1 ? '' : 's'}, ${fmtCount(CURVE_KEYS)} keys`],
    ['keyspace', KEYSPACES, (x) => `${fmtCount(x)} keys, ${CURVE_CALLERS} callers`],
  ]) {
    for (const x of xs) {
      const cells = series.map((s) => {
        const p = points.find((q) => q.curve === curve && q.x === x && q.backend === s.backend && q.path === s.path);
        return p ? `${fmtUs(p.nsPerCall.median)} (${p.vsFirst.toFixed(2)}x)` : '-';
      });
      rows.push([label(x), ...cells]);
    }
  }
  return table(header, rows);
}

export async function run(ctx) {
  const lib = await ctx.lib('Cache', 'CashewsModule', 'CacheService');
  const started = Date.now();
  const load = loadavg()[0];
  // Unique per run: the Redis cleanup deletes exactly the keys under it that this run wrote.
  const prefix = `bench:scale:${process.pid}:${Date.now()}:`;

  const points = await memoryCurves(ctx, lib, prefix);
  let redisSkipped;
  try {
    points.push(...(await redisCurves(ctx, lib, prefix)));
  } catch (error) {
    if (error?.name !== 'SkipError') throw error;
    redisSkipped = error.message;
  }

  const series = ['memory', 'redis'].flatMap((backend) =>
    PATHS[backend].filter(() => points.some((p) => p.backend === backend)).map((path) => ({ backend, path })),
  );
  const seconds = (Date.now() - started) / 1000;
  const conditions =
    `node ${process.version}, load ${load.toFixed(2)} at start, ${Math.min(ctx.rounds, ROUNDS)} rounds of ` +
    `~${Math.min(ctx.roundMs, ROUND_MS)}ms per point, ${seconds.toFixed(0)}s, ${new Date(started).toISOString()}`;
  const svg = renderScaleChart({
    points,
    series,
    callers: CALLERS,
    keyspaces: KEYSPACES,
    conditions,
    curveKeys: CURVE_KEYS,
    curveCallers: CURVE_CALLERS,
  });
  const dir = new URL('../results/', import.meta.url);
  await mkdir(dir, { recursive: true });
  const chart = new URL('scale-curves.svg', dir);
  await writeFile(chart, svg);

  const text = [
    `µs per call, median of the rounds (in brackets: cost / cost at the curve's first point, median of per-round ratios)`,
    formatTable(points, series),
    ...(redisSkipped ? [`  redis skipped: ${redisSkipped}`] : []),
    `  ${conditions}`,
    `  chart: ${fileURLToPath(chart)}`,
  ].join('\n');
  return { info: true, text, conditions, points, chart: fileURLToPath(chart) };
}
