/**
 * The backend conformance suite as nestjs-cashews/testing exports it (lib/testing/backend-conformance.ts), on every
 * backend, directly (no CacheService):
 * the prefix router over memory + Redis, and the chaos backend (latency only) over Redis.
 * Redis isolation: database 14 of the worker's Redis (flushed after the file).
 */
import { ChaosBackend } from '../../lib/backends/chaos.backend.js';
import { MemoryBackend } from '../../lib/backends/memory.backend.js';
import { PrefixRouterBackend } from '../../lib/backends/prefix-router.backend.js';
import { RedisBackend } from '../../lib/backends/redis.backend.js';
import { resolveCacheConfig } from '../../lib/config/cache-url.js';
import { runBackendConformance } from '../../lib/testing/index.js';
import { jestTest } from '../support/jest-runner.js';
import { describeRedis, flushRedisDb, redisUrl } from '../support/redis.js';

const DB = 14;
/** Latency the chaos backend adds to every command: enough to reorder concurrent calls. */
const LATENCY: [number, number] = [0, 5];

function must(url: string | undefined): string {
  if (!url) throw new Error('Redis URL missing although the suite is not skipped');
  return url;
}

/**
 * The default size of mem://: well above the most keys one test writes (1,200), since each test has fresh backends.
 * (A size of 100,000 cost ~20 ms of lru-cache allocation and clearing per backend, seconds over the suite.)
 */
const memory = (): MemoryBackend => new MemoryBackend({ size: 10_000, checkInterval: 0 });
const redis = (): RedisBackend => new RedisBackend(resolveCacheConfig(must(redisUrl(DB))));

describeRedis('Redis backends', () => {
  afterAll(() => flushRedisDb(DB));

  runBackendConformance({
    name: `prefix router: memory, conf: to redis db ${DB}`,
    create: () => new PrefixRouterBackend(memory(), [{ prefix: 'conf:', backend: redis() }]),
    test: jestTest,
  });
  runBackendConformance({
    name: `chaos (latency only) over redis db ${DB}`,
    create: () => new ChaosBackend(redis(), { latency: LATENCY }),
    test: jestTest,
  });
});
