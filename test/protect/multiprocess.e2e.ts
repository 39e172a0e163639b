/**
 * Two Node processes on one Redis (db 1, flushed before and after this file) share one rate limit and one
 * circuit. Two workers (test/fixtures/protect-worker.ts) load a build of lib/, are started once for the file and
 * run one job per step, each in a Nest app of its own; in the rate-limit race they wait for a `go` key.
 */
import { randomUUID } from 'node:crypto';
import { createCache, type CacheService } from '../../lib/index.js';
import { buildLib, killAll, startJobWorker, type JobWorker, type LibBuild } from '../multiprocess/processes.js';
import { describeRedis, flushRedisDb, pollUntil, redisUrl, sleep } from '../support/redis.js';

const DB = 1;
/**
 * How long the circuit stays open. The workers are already running, so a job answers within a second even on a
 * loaded machine: the probe of another process lands well inside this window, and the test waits it out once.
 */
const CIRCUIT_TTL_MS = 5_000;

describeRedis('protective decorators across processes', () => {
  let build: LibBuild;
  let cache: CacheService;
  let url: string;
  let a: JobWorker;
  let b: JobWorker;

  beforeAll(async () => {
    url = redisUrl(DB)!;
    await flushRedisDb(DB);
    cache = await createCache(url);
    build = await buildLib();
    const env = { CASHEWS_LIB: build.entry, REDIS_URL: url };
    [a, b] = [
      startJobWorker(build.fixture('protect-worker'), env),
      startJobWorker(build.fixture('protect-worker'), env),
    ];
  }, 120_000);

  afterAll(async () => {
    killAll();
    await cache?.close();
    build?.remove();
    await flushRedisDb(DB);
  });

  it('2 processes x 200 concurrent calls share one limit of 50: exactly 50 pass', async () => {
    const run = randomUUID();
    const job = { run, mode: 'rate', calls: 200, limit: 50 };
    const done = [a.run(job), b.run(job)];
    let failed = false;
    void Promise.all(done).catch(() => (failed = true));
    const ready = await pollUntil(
      async () => failed || Number(await cache.get(`protect-mp:${run}:ready`)) === 2,
      40_000,
    );
    if (failed) await Promise.all(done); // rethrows the worker's error
    expect(ready).toBe(true);
    await cache.set(`protect-mp:${run}:go`, 1, { ttl: '1m' });
    const results = await Promise.all(done);
    const passed = results.reduce((sum, r) => sum + Number(r.passed), 0);
    const limited = results.reduce((sum, r) => sum + Number(r.limited), 0);
    expect({ passed, limited }).toEqual({ passed: 50, limited: 350 });
  }, 60_000);

  it('one circuit: opened by a failure in one process, it fails fast in another; half-open trial closes it', async () => {
    const run = randomUUID();
    const circuitTtl = `${CIRCUIT_TTL_MS}ms`;
    expect(await a.run({ run, mode: 'circuit-fail', circuitTtl })).toEqual({ error: 'Error' });
    const opened = Date.now(); // the circuit opened before this
    // Another process, within the open window, fails fast without running the method.
    expect(await b.run({ run, mode: 'circuit-probe', circuitTtl })).toEqual({ outcome: 'CircuitOpenError', runs: 0 });
    await sleep(Math.max(0, opened + CIRCUIT_TTL_MS + 300 - Date.now()));
    // Half-open: this process's call is the trial, and its success closes the circuit for everyone.
    expect(await a.run({ run, mode: 'circuit-probe', circuitTtl })).toEqual({ outcome: 'ok', runs: 1 });
    expect(await b.run({ run, mode: 'circuit-probe', circuitTtl })).toEqual({ outcome: 'ok', runs: 1 });
  }, 60_000);
});
