/**
 * The backend conformance suite (test/support/backend-conformance.ts) on Redis Cluster, directly (no CacheService).
 * Apart from conformance.e2e-spec.ts so that only this file lands in the cluster Jest project.
 * Isolation: the private test cluster, flushed after the file.
 */
import { RedisClusterBackend } from '../../lib/backends/redis-cluster.backend.js';
import { resolveCacheConfig } from '../../lib/config/cache-url.js';
import { backendConformance } from '../support/backend-conformance.js';
import { clusterUrl, describeCluster, flushCluster } from '../support/redis.js';

function must(url: string | undefined): string {
  if (!url) throw new Error('Cluster URL missing although the suite is not skipped');
  return url;
}

describeCluster('Redis Cluster backend', () => {
  afterAll(() => flushCluster());

  backendConformance('redis+cluster://', () => new RedisClusterBackend(resolveCacheConfig(must(clusterUrl()))));
});
