/**
 * `SENTINEL FAILOVER` while many callers write (incr and set on fresh keys) and read: safe mode answers (reads never
 * throw, a failed `set` is `false`, a failed `incr` a CacheBackendError and nothing else), the client moves to the
 * new master (checked with ROLE), and acknowledged writes are checked on the new master afterwards:
 * - default (asynchronous replication): every write acknowledged after the client reached the new master is there.
 *   Writes the old master acknowledged in the moment between the replica's promotion and the client's move may be
 *   lost; this test does not claim otherwise (the README says so);
 * - `wait_replicas=1` (one replica): every write that was acknowledged at all is there, and no incr ran twice.
 * This suite holds the `wait_replicas=1` case (in sentinel.e2e-spec.ts); the other case is failover.e2e-spec.ts, so that Jest runs the two side by side (each
 * takes some 20 s, mostly waiting on Sentinel). Shared setup: failover-support.ts.
 */
import { NONE, summary } from '../faults/fault-support.js';
import { describeFailover, missingOn, TEST_TIMEOUT_MS } from './failover-support.js';

describeFailover('redis+sentinel:// failover during traffic', (context) => {
  it(
    'wait_replicas=1: every acknowledged write is on the new master, and no incr ran twice',
    async () => {
      const d = context.deployment();
      const cache = await context.open(d.url(0, { wait_replicas: '1' }));
      const { traffic } = await context.failoverUnderTraffic(d, cache);
      expect(traffic.acknowledged.length).toBeGreaterThan(0);
      // Acknowledged by the old master and its replica before the switch, or by the new master and the old one
      // once it had been demoted: every one of them is on the new master.
      expect(summary(await missingOn(d.second, traffic.acknowledged))).toEqual(NONE);
      expect(await d.role(d.first)).toBe('slave');
    },
    TEST_TIMEOUT_MS,
  );
});
