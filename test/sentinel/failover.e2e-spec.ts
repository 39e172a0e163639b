/**
 * `SENTINEL FAILOVER` while many callers write (incr and set on fresh keys) and read: safe mode answers (reads never
 * throw, a failed `set` is `false`, a failed `incr` a CacheBackendError and nothing else), the client moves to the
 * new master (checked with ROLE), and acknowledged writes are checked on the new master afterwards:
 * - default (asynchronous replication): every write acknowledged after the client reached the new master is there.
 *   Writes the old master acknowledged in the moment between the replica's promotion and the client's move may be
 *   lost; this test does not claim otherwise (the README says so);
 * - `wait_replicas=1` (one replica): every write that was acknowledged at all is there, and no incr ran twice.
 * This file holds the default (asynchronous replication) case; the other case is in sentinel.e2e-spec.ts, so that Jest runs the two side by side (each
 * takes some 20 s, mostly waiting on Sentinel). Shared setup: failover-support.ts.
 */
import { NONE, summary } from '../faults/fault-support.js';
import { describeFailover, missingOn, TEST_TIMEOUT_MS } from './failover-support.js';

describeFailover('redis+sentinel:// failover during traffic', (context) => {
  it(
    'default: safe mode answers, the client follows the new master, writes acknowledged there are kept',
    async () => {
      const d = context.deployment();
      const cache = await context.open(d.url(0));
      const { traffic, followedAt } = await context.failoverUnderTraffic(d, cache);
      // Sentinel demotes the old master some 10 s after the switch; it then resynchronises from the new one.
      await d.replicating(d.first, 30_000);
      expect(await d.role(d.first)).toBe('slave');
      const after = traffic.acknowledged.filter((entry) => entry.at > followedAt);
      expect(after.length).toBeGreaterThan(0);
      expect(summary(await missingOn(d.second, after))).toEqual(NONE);
    },
    TEST_TIMEOUT_MS,
  );
});
