/**
 * Two Node processes on one Redis (db 1, flushed before and after this file) share one rate limit and one
 * circuit. Workers (test/fixtures/protect-worker.ts) load a tsc build of lib/ and race on a `go` key.
 */
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createCache, type CacheService } from '../../lib/index.js';
import { buildLib, describeFailure, killAll, ROOT, startWorker, type LibBuild } from '../multiprocess/processes.js';
import { describeRedis, flushRedisDb, pollUntil, redisUrl, sleep } from '../support/redis.js';

const DB = 1;
const SCRIPT = join(ROOT, 'test', 'fixtures', 'protect-worker.ts');

describeRedis('protective decorators across processes', () => {
  let build: LibBuild;
  let cache: CacheService;
  let url: string;

  beforeAll(async () => {
    url = redisUrl(DB)!;
    await flushRedisDb(DB);
    cache = await createCache(url);
    build = await buildLib();
  }, 120_000);

  afterEach(() => killAll());
  afterAll(async () => {
    killAll();
    await cache?.close();
    build?.remove();
    await flushRedisDb(DB);
  });

  async function worker(env: Record<string, string>): Promise<Record<string, unknown>> {
    const result = await startWorker({ CASHEWS_LIB: build.entry, REDIS_URL: url, ...env }, 45_000, SCRIPT).done;
    if (result.code !== 0 || !result.result) throw new Error(describeFailure(result));
    return result.result;
  }

  it('2 processes x 200 concurrent calls share one limit of 50: exactly 50 pass', async () => {
    const run = randomUUID();
    const env = { RUN: run, MODE: 'rate', CALLS: '200', LIMIT: '50' };
    const done = [worker(env), worker(env)];
    const ready = await pollUntil(async () => Number(await cache.get(`protect-mp:${run}:ready`)) === 2, 40_000);
    expect(ready).toBe(true);
    await cache.set(`protect-mp:${run}:go`, 1, { ttl: '1m' });
    const results = await Promise.all(done);
    const passed = results.reduce((sum, r) => sum + Number(r.passed), 0);
    const limited = results.reduce((sum, r) => sum + Number(r.limited), 0);
    expect({ passed, limited }).toEqual({ passed: 50, limited: 350 });
  }, 60_000);

  it('one circuit: opened by a failure in one process, it fails fast in another; half-open trial closes it', async () => {
    const run = randomUUID();
    expect(await worker({ RUN: run, MODE: 'circuit-fail' })).toEqual({ error: 'Error' });
    const opened = Date.now(); // the circuit opened (for 15 s: starting a process can take seconds) before this
    // Another process, within the 15 s, fails fast without running the method.
    expect(await worker({ RUN: run, MODE: 'circuit-probe' })).toEqual({ outcome: 'CircuitOpenError', runs: 0 });
    await sleep(Math.max(0, opened + 15_300 - Date.now()));
    // Half-open: this process's call is the trial, and its success closes the circuit for everyone.
    expect(await worker({ RUN: run, MODE: 'circuit-probe' })).toEqual({ outcome: 'ok', runs: 1 });
    expect(await worker({ RUN: run, MODE: 'circuit-probe' })).toEqual({ outcome: 'ok', runs: 1 });
  }, 60_000);
});
