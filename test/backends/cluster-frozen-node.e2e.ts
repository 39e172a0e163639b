/**
 * Redis Cluster with one master that stops answering (CLIENT PAUSE ALL: the node is up, its sockets open, nothing
 * answered), under steady traffic that does not wait for earlier replies (an HTTP server keeps taking requests).
 * The promise under test is the single server's: callers fail within command_timeout, and the commands do not pile
 * up on the silent connection to run, all of them, once the node answers again. Each caller told "failed" whose
 * INCR later ran is counted; on a single server that is at most the commands of one command_timeout.
 * Isolation: the private test cluster; the pause is lifted in `finally`, the keys flushed after the file.
 */
import { Redis, type Cluster } from 'ioredis';
import { CacheBackendError, createCache, RedisClusterBackend } from '../../lib/index.js';
import {
  clusterNodes,
  clusterUrl,
  describeCluster,
  flushCluster,
  pollUntil,
  sleep,
  withQuery,
} from '../support/redis.js';

/** How long the master is silent: ten times the command_timeout below. */
const PAUSE_MS = 3_000;
const COMMAND_TIMEOUT_MS = 300;

describeCluster('redis cluster: a master that stops answering', () => {
  const raw: Redis[] = [];

  afterAll(async () => {
    await flushCluster();
    raw.splice(0).forEach((client) => client.disconnect());
  });

  function rawNode(port: number): Redis {
    const client = new Redis({ host: '127.0.0.1', port, connectTimeout: 2000, retryStrategy: () => null });
    raw.push(client);
    return client;
  }

  it('does not pile up commands: calls that failed are not all applied once it answers again', async () => {
    const url = clusterUrl();
    if (!url) throw new Error('cluster URL missing although the suite is not skipped');
    const cache = await createCache(withQuery(url, { command_timeout: `${COMMAND_TIMEOUT_MS}ms` }));
    const pausers: Redis[] = [];
    try {
      const key = `{frozen}:${Date.now()}`;
      const probe = rawNode(clusterNodes()[0].port);
      const slot = (await probe.cluster('KEYSLOT', key)) as number;
      const ranges = await probe.cluster('SLOTS');
      const port = ranges.find(([from, to]) => from <= slot && slot <= to)![2][1] as number;
      const node = ((cache.backend as RedisClusterBackend).client as Cluster)
        .nodes('master')
        .find((candidate) => candidate.options.port === port);
      expect(node).toBeDefined();
      await cache.incr(key); // the node's connection is up and has answered

      let resolved = 1;
      let failed = 0;
      const other: unknown[] = [];
      let peakQueue = 0;
      let stop = false;
      // 10 INCRs every 5 ms, none waiting for the others: the traffic of a server that keeps taking requests.
      const traffic = (async () => {
        const calls: Array<Promise<void>> = [];
        while (!stop) {
          for (let i = 0; i < 10; i++) {
            calls.push(
              cache.incr(key).then(
                () => void resolved++,
                (error: unknown) => void (error instanceof CacheBackendError ? failed++ : other.push(error)),
              ),
            );
          }
          peakQueue = Math.max(peakQueue, node!.commandQueue.length);
          await sleep(5);
        }
        await Promise.all(calls);
      })();

      await sleep(200);
      const pauser = rawNode(port);
      pausers.push(pauser);
      await pauser.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL');
      await sleep(PAUSE_MS);
      await pauser.call('CLIENT', 'UNPAUSE').catch(() => undefined);
      // The node answers again: traffic goes on until the calls succeed again, then stops.
      const back = resolved;
      await pollUntil(async () => resolved > back + 50, 10_000, 20);
      stop = true;
      await traffic;

      expect(other).toEqual([]);
      expect(failed).toBeGreaterThan(0); // the pause did fail calls in flight
      const stored = Number(await rawNode(port).get(key));
      // Every resolved call ran once; a failed one may have run (its reply was lost), but only the few in flight
      // when the node fell silent, not everything sent to it during the whole pause.
      const appliedAfterFailing = stored - resolved;
      expect(appliedAfterFailing).toBeGreaterThanOrEqual(0);
      expect(appliedAfterFailing).toBeLessThan(failed / 2);
      // Memory: the silent connection never holds more than about one command_timeout of traffic.
      expect(peakQueue).toBeLessThan(failed / 2);
    } finally {
      for (const pauser of pausers) await pauser.call('CLIENT', 'UNPAUSE').catch(() => undefined);
      await cache.close();
    }
  }, 30_000);
});
