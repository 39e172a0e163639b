/**
 * Several Node processes sharing one Redis (db 11, flushed before and after this file): cross-process
 * stampede lock of @Cache (on a value and on a streamed result), a single refresh of @Early (in the background, and
 * awaited by its caller with `background: false`), mutual exclusion of @Locked, and errors stored by `cacheErrors`
 * in one process re-thrown as the same class in another.
 *
 * Four workers (test/fixtures/mp-worker.ts) are started once for the file and run one job per scenario, each in a
 * Nest app of its own with keys of its own run. In a race, every worker of the scenario reports `ready` and waits
 * for a `go` key, so their calls really race. Every wait is bounded and every worker is killed in afterAll.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createCache, type CacheService } from '../../lib/index.js';
import { describeRedis, flushRedisDb, pollUntil, rawRedis, redisUrl, sleep } from '../support/redis.js';
import { buildLib, killAll, startJobWorker, type JobWorker, type LibBuild } from './processes.js';

const DB = 11;
/** The most processes a scenario races. */
const WORKERS = 4;

describeRedis('multi-process strategies on one Redis', () => {
  let build: LibBuild;
  let raw: Redis;
  let cache: CacheService;
  let url: string;
  let workers: JobWorker[] = [];

  beforeAll(async () => {
    url = redisUrl(DB)!;
    await flushRedisDb(DB);
    raw = rawRedis(url);
    cache = await createCache(url);
    build = await buildLib();
    const env = { CASHEWS_LIB: build.entry, REDIS_URL: url };
    workers = Array.from({ length: WORKERS }, () => startJobWorker(build.fixture('mp-worker'), env));
  }, 120_000);

  afterAll(async () => {
    killAll();
    await cache?.close();
    raw?.disconnect();
    build?.remove();
    await flushRedisDb(DB);
  });

  /** Gives the job to `processes` workers, waits until all are ready, then releases them at once. */
  async function race(
    run: string,
    mode: string,
    processes: number,
    calls: number,
    workMs: number,
    notBefore = 0,
  ): Promise<Array<Record<string, unknown>>> {
    const key = (name: string) => `mp:${run}:${name}`;
    const jobs = workers.slice(0, processes).map((worker) => worker.run({ run, mode, calls, workMs }));
    let failed = false;
    // A job that fails before `go` (e.g. its app did not start) ends the wait at once; its error is rethrown below.
    const settled = Promise.all(jobs).catch(() => (failed = true));
    const ready = await pollUntil(async () => failed || Number(await raw.get(key('ready'))) >= processes, 30_000, 20);
    if (failed) await Promise.all(jobs);
    if (!ready) {
      killAll();
      throw new Error(`${processes} workers not ready within 30 s`);
    }
    if (Date.now() < notBefore) await sleep(notBefore - Date.now());
    await raw.set(key('go'), '1', 'EX', 60);
    await settled;
    return Promise.all(jobs);
  }

  it('@Cache({ lock: true }): 4 processes x 250 concurrent cold calls run the method exactly once', async () => {
    const run = randomUUID();
    const results = await race(run, 'cache', 4, 250, 300);
    expect(Number(await raw.get(`mp:${run}:cache-runs`))).toBe(1);
    expect(results.reduce((sum, r) => sum + (r.calls as number), 0)).toBe(1000);
    const tokens = new Set(results.flatMap((r) => r.tokens as string[]));
    expect(tokens.size).toBe(1);
  }, 90_000);

  it('@Early: 4 processes calling in the early window trigger exactly one background refresh', async () => {
    const run = randomUUID();
    // One process computes the first value (in an app of its own, closed before the race); its early window opens
    // 1 s later.
    await workers[0].run({ run, mode: 'early-seed', workMs: 100 });
    expect(Number(await raw.get(`mp:${run}:early-runs`))).toBe(1);

    // `go` is not given before the early window opens (1 s after the seed was stored).
    const results = await race(run, 'early', 4, 50, 300, Date.now() + 1100);
    for (const r of results) {
      // Everyone got the current value immediately, nobody waited on the refresh.
      expect(r.gens).toEqual([1]);
      expect(r.calls).toBe(50);
    }
    // Each worker awaited its own background tasks before exiting; across the 4 only one refresh ran.
    expect(Number(await raw.get(`mp:${run}:early-runs`))).toBe(2);
    const stored = await cache.get<{ v: { gen: number } }>(`mp:${run}:early`);
    expect(stored?.v.gen).toBe(2);
  }, 90_000);

  it('@Early({ background: false }): across 4 processes one refresh runs, and only the caller that won it waits', async () => {
    const run = randomUUID();
    await workers[0].run({ run, mode: 'early-wait-seed', workMs: 100 });
    expect(Number(await raw.get(`mp:${run}:early-wait-runs`))).toBe(1);

    const workMs = 600;
    const results = await race(run, 'early-wait', 4, 50, workMs, Date.now() + 1100);
    expect(results.reduce((sum, r) => sum + (r.calls as number), 0)).toBe(200);
    // One refresh across every process and call.
    expect(Number(await raw.get(`mp:${run}:early-wait-runs`))).toBe(2);
    for (const r of results) expect((r.gens as number[]).every((gen) => gen === 1 || gen === 2)).toBe(true);
    // The winner answered the refreshed value after waiting for the whole refresh (with background: true nobody
    // gets it: see the test above); everyone else answered the current value (or, read later, the new one).
    const refreshedMs = results.flatMap((r) => r.refreshedMs as number[]);
    expect(refreshedMs.length).toBeGreaterThanOrEqual(1);
    expect(Math.max(...refreshedMs)).toBeGreaterThanOrEqual(workMs);
    // Nobody answered the current value only after the refresh: the losers did not wait for it.
    for (const r of results) expect(r.slowestCurrentMs).toBeLessThan(workMs);
    const stored = await cache.get<{ v: { gen: number } }>(`mp:${run}:early-wait`);
    expect(stored?.v.gen).toBe(2);
  }, 90_000);

  it('cacheErrors: an error stored by one process is re-thrown by another as the same class, message and status', async () => {
    const run = randomUUID();
    const first = await workers[0].run({ run, mode: 'errors' });
    expect(first.runs).toBe(2);
    const second = await workers[1].run({ run, mode: 'errors' });
    // The second process did not run the method: both errors came from Redis.
    expect(second.runs).toBe(2);
    expect(second.thrown).toEqual(first.thrown);
    expect(second.thrown).toEqual([
      {
        name: 'MpMissingError',
        isMissing: true,
        isGone: false,
        message: 'Item a is missing',
        itemId: 'a',
      },
      {
        name: 'GoneException',
        isMissing: false,
        isGone: true,
        message: 'Item gone is gone for good',
        status: 410,
        response: { statusCode: 410, error: 'Gone', message: 'Item gone is gone for good' },
      },
    ]);
  }, 90_000);

  it('@Cache({ lock: true }) on an async generator: 3 processes x 20 readers, the stream runs once and everyone reads it whole', async () => {
    const run = randomUUID();
    const results = await race(run, 'stream', 3, 20, 300);
    expect(Number(await raw.get(`mp:${run}:stream-runs`))).toBe(1);
    expect(results.reduce((sum, r) => sum + (r.calls as number), 0)).toBe(60);
    // Every reader got the three chunks in order, all produced by the one process that ran the method.
    for (const r of results) expect(r.shapes).toEqual(['1,2,3']);
    expect(new Set(results.flatMap((r) => r.pids as number[])).size).toBe(1);
  }, 90_000);

  it('@Locked: executions in 3 processes (2 concurrent calls each) never overlap', async () => {
    const run = randomUUID();
    await race(run, 'locked', 3, 2, 150);
    expect(Number((await raw.get(`mp:${run}:overlaps`)) ?? 0)).toBe(0);
    expect(Number(await raw.get(`mp:${run}:active`))).toBe(0);
    const intervals: Array<{ start: number; end: number; pid: number }> = [];
    for await (const [, value] of cache.getMatch<{ start: number; end: number; pid: number }>(`mp:${run}:interval:*`)) {
      intervals.push(value);
    }
    expect(intervals).toHaveLength(6);
    expect(new Set(intervals.map((i) => i.pid)).size).toBe(3);
    intervals.sort((a, b) => a.start - b.start);
    for (let i = 1; i < intervals.length; i++) {
      expect(intervals[i].start).toBeGreaterThanOrEqual(intervals[i - 1].end);
    }
  }, 90_000);
});
