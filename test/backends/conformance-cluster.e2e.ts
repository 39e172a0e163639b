/**
 * The backend conformance suite as nestjs-cashews/testing exports it (lib/testing/backend-conformance.ts), on Redis
 * Cluster, directly (no CacheService).
 * Apart from conformance.e2e-spec.ts so that only this file lands in the cluster Jest project.
 * Isolation: the private test cluster, flushed after the file.
 */
import { RedisClusterBackend } from '../../lib/backends/redis-cluster.backend.js';
import { resolveCacheConfig } from '../../lib/config/cache-url.js';
import { runBackendConformance } from '../../lib/testing/index.js';
import { jestTest } from '../support/jest-runner.js';
import { clusterUrl, describeCluster, flushCluster } from '../support/redis.js';

function must(url: string | undefined): string {
  if (!url) throw new Error('Cluster URL missing although the suite is not skipped');
  return url;
}

describeCluster('Redis Cluster backend', () => {
  afterAll(() => flushCluster());

  runBackendConformance({
    name: 'redis+cluster://',
    create: () => new RedisClusterBackend(resolveCacheConfig(must(clusterUrl()))),
    test: jestTest,
  });

  it("applies a one-slot commit after a write of the same key issued before it (its MULTI waits its turn on the key's node)", async () => {
    const backend = new RedisClusterBackend(resolveCacheConfig(must(clusterUrl())));
    await backend.connect();
    try {
      const key = 'order:{slot}:commit';
      for (let round = 0; round < 20; round++) {
        await backend.set(key, '0');
        await Promise.all([backend.set(key, '1'), backend.commit([{ op: 'set', key, raw: '2', ttl: 60_000 }])]);
        expect(await backend.get(key)).toBe('2');
      }
    } finally {
      await backend.close();
    }
  });
});
