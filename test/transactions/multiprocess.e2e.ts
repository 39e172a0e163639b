/**
 * Transactions across processes on one Redis (issue #13): `serializable` read-modify-write transactions of two
 * processes lose no update, and a process killed (SIGKILL) while committing leaves every transaction applied
 * whole or not at all. Workers: test/fixtures/tx-worker.ts.
 */
import { randomUUID } from 'node:crypto';
import { createCache, type CacheService } from '../../lib/index.js';
import { buildLib, describeFailure, killAll, startWorker, type LibBuild } from '../multiprocess/processes.js';
import { describeRedis, pollUntil, redisUrl, sleep } from '../support/redis.js';

describeRedis('transactions across processes', () => {
  let cache: CacheService;
  let run: string;
  let build: LibBuild;
  let script: string;
  const k = (name: string) => `{tx-mp-${run}}:${name}`;

  beforeAll(async () => {
    build = await buildLib();
    script = build.fixture('tx-worker');
  }, 120_000);
  afterAll(() => build?.remove());

  beforeEach(async () => {
    cache = await createCache(redisUrl()!);
    run = randomUUID().slice(0, 8);
  });
  afterEach(async () => {
    killAll();
    await cache.deleteMatch(`{tx-mp-${run}}:*`);
    await cache.close();
  });

  it('serializable: two processes x 25 read-modify-write transactions count exactly 50', async () => {
    const env = { REDIS_URL: redisUrl()!, RUN: run, MODE: 'rmw', TIMES: '25', TX_MODE: 'serializable' };
    const workers = [startWorker(env, 60_000, script), startWorker(env, 60_000, script)];
    await sleep(500); // both started (they wait for `go`, bounded)
    await cache.set(k('go'), 1);
    for (const worker of workers) {
      const result = await worker.done;
      if (result.code !== 0) throw new Error(describeFailure(result));
      expect(result.result).toEqual({ committed: 25 });
    }
    expect(await cache.get(k('counter'))).toBe(50);
  }, 90_000);

  it('a process killed while committing leaves each transaction whole or absent', async () => {
    const KEYS = 200;
    for (let round = 0; round < 2; round++) {
      const worker = startWorker(
        { REDIS_URL: redisUrl()!, RUN: run, MODE: 'crash', KEYS: String(KEYS) },
        60_000,
        script,
      );
      // Let it commit some transactions, then kill it at an arbitrary point of its loop.
      const base = ((await cache.get(k('commits'))) as number | undefined) ?? 0;
      const started = await pollUntil(
        async () => (((await cache.get(k('commits'))) as number) ?? 0) >= base + 5,
        30_000,
        5,
      );
      expect(started).toBe(true);
      await sleep(Math.floor(Math.random() * 40));
      worker.child.kill('SIGKILL');
      await worker.done;
      const values = await cache.getMany(Array.from({ length: KEYS }, (_, i) => k(`key:${i}`)));
      const commits = await cache.get(k('commits'));
      // Every key holds the same generation, and the counter committed with them agrees.
      expect(new Set(values).size).toBe(1);
      expect(values[0]).toBe(commits);
    }
  }, 120_000);
});
