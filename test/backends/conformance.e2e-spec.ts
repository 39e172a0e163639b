/**
 * The backend conformance suite (test/support/backend-conformance.ts) on every backend, directly (no CacheService):
 * memory, Redis, the prefix router over memory and over memory + Redis, the client-side backend, and the chaos
 * backend adding latency (no faults) over memory and over Redis (Redis Cluster: conformance-cluster.e2e-spec.ts).
 * Redis isolation: database 12 of the worker's Redis (flushed after the file).
 */
import { ChaosBackend } from '../../lib/backends/chaos.backend.js';
import { ClientSideBackend } from '../../lib/backends/client-side.backend.js';
import { MemoryBackend } from '../../lib/backends/memory.backend.js';
import { PrefixRouterBackend } from '../../lib/backends/prefix-router.backend.js';
import { RedisBackend } from '../../lib/backends/redis.backend.js';
import { resolveCacheConfig } from '../../lib/config/cache-url.js';
import { backendConformance } from '../support/backend-conformance.js';
import { describeRedis, flushRedisDb, redisUrl, withQuery } from '../support/redis.js';

const DB = 12;
/** Latency the chaos backend adds to every command: enough to reorder concurrent calls. */
const LATENCY: [number, number] = [0, 5];

function must(url: string | undefined): string {
  if (!url) throw new Error('Redis URL missing although the suite is not skipped');
  return url;
}

const memory = (): MemoryBackend => new MemoryBackend({ size: 100_000, checkInterval: 0 });
const redis = (): RedisBackend => new RedisBackend(resolveCacheConfig(must(redisUrl(DB))));

describe('in-process backends', () => {
  backendConformance('memory', memory, { fakeTimers: true });
  backendConformance(
    'prefix router: memory, conf: to memory',
    () => new PrefixRouterBackend(memory(), [{ prefix: 'conf:', backend: memory() }]),
    { fakeTimers: true },
  );
  backendConformance(
    'prefix router: memory, keys on the main backend',
    () => new PrefixRouterBackend(memory(), [{ prefix: 'conf:', backend: memory() }]),
    { fakeTimers: true, keyPrefix: 'main:' },
  );
  backendConformance('chaos (latency only) over memory', () => new ChaosBackend(memory(), { latency: LATENCY }));
});

describeRedis('Redis backends', () => {
  afterAll(() => flushRedisDb(DB));

  backendConformance(`redis db ${DB}`, redis);
  backendConformance(
    `client-side redis db ${DB}`,
    () => new ClientSideBackend(resolveCacheConfig(withQuery(must(redisUrl(DB)), { client_side: '1' }))),
  );
  backendConformance(
    `prefix router: memory, conf: to redis db ${DB}`,
    () => new PrefixRouterBackend(memory(), [{ prefix: 'conf:', backend: redis() }]),
  );
  backendConformance(`chaos (latency only) over redis db ${DB}`, () => new ChaosBackend(redis(), { latency: LATENCY }));
});
