/**
 * `@Adaptive` across processes on one Redis (db 12, flushed before and after this file): a busy process calls three
 * keys every 5 ms, a quiet one a new key every 100 ms; windows are 300 ms of real time. Alone, the quiet process
 * would never cache; with the fleet's one decision it runs the method under the busy traffic's decision and reads
 * the entries the busy process stores. Workers: test/fixtures/mp-worker.ts (modes adaptive-busy, adaptive-quiet).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AdaptiveStats } from '../../lib/index.js';
import { describeRedis, flushRedisDb, pollUntil, rawRedis, redisUrl } from '../support/redis.js';
import { buildLib, killAll, startJobWorker, type JobWorker, type LibBuild } from './processes.js';

const DB = 12;

describeRedis('@Adaptive fleet sharing across processes', () => {
  let build: LibBuild;
  let raw: Redis;
  let workers: JobWorker[] = [];

  beforeAll(async () => {
    const url = redisUrl(DB)!;
    await flushRedisDb(DB);
    raw = rawRedis(url);
    build = await buildLib();
    const env = { CASHEWS_LIB: build.entry, REDIS_URL: url };
    workers = [0, 1].map(() => startJobWorker(build.fixture('mp-worker'), env));
  }, 120_000);

  afterAll(async () => {
    killAll();
    raw?.disconnect();
    build?.remove();
    await flushRedisDb(DB);
  });

  it('a quiet process adopts the decision the fleet made from a busy one, and reads what it stores', async () => {
    const run = randomUUID();
    const jobs = [
      workers[0].run({ run, mode: 'adaptive-busy', durationMs: 3000 }),
      workers[1].run({ run, mode: 'adaptive-quiet', durationMs: 3000 }),
    ];
    let failed = false;
    const settled = Promise.all(jobs).catch(() => (failed = true));
    const ready = await pollUntil(async () => failed || Number(await raw.get(`mp:${run}:ready`)) >= 2, 30_000, 20);
    expect(ready).toBe(true);
    await raw.set(`mp:${run}:go`, '1', 'EX', 60);
    await settled;
    const [busy, quiet] = await Promise.all(jobs);
    const busyRow = busy.adaptive as AdaptiveStats;
    const quietRow = quiet.adaptive as AdaptiveStats;
    expect(busyRow).toMatchObject({ store: 'cache', shared: true });
    expect(quietRow).toMatchObject({ store: 'cache', shared: true });
    // One fleet state for the method, in the backend, as protection state (out of reach of cache commands).
    expect(await raw.keys(`cashews:protect:Svc:adaptive:adaptive:state`)).toHaveLength(1);
    expect(await raw.keys(`Svc:adaptive:adaptive:state`)).toHaveLength(0);
    expect(quiet.hitAfter).toBe(true);
  }, 90_000);
});
