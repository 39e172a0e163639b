/**
 * The backend conformance suite as nestjs-cashews/testing exports it (lib/testing/backend-conformance.ts), on every
 * backend, directly (no CacheService):
 * Redis and the client-side backend over Redis.
 * Redis isolation: database 12 of the worker's Redis (flushed after the file).
 */
import { ClientSideBackend } from '../../lib/backends/client-side.backend.js';
import { RedisBackend } from '../../lib/backends/redis.backend.js';
import { resolveCacheConfig } from '../../lib/config/cache-url.js';
import { runBackendConformance } from '../../lib/testing/index.js';
import { jestTest } from '../support/jest-runner.js';
import { describeRedis, flushRedisDb, redisUrl, withQuery } from '../support/redis.js';

const DB = 12;

function must(url: string | undefined): string {
  if (!url) throw new Error('Redis URL missing although the suite is not skipped');
  return url;
}

const redis = (): RedisBackend => new RedisBackend(resolveCacheConfig(must(redisUrl(DB))));

describeRedis('Redis backends', () => {
  afterAll(() => flushRedisDb(DB));

  runBackendConformance({ name: `redis db ${DB}`, create: redis, test: jestTest });
  runBackendConformance({
    name: `client-side redis db ${DB}`,
    create: () => new ClientSideBackend(resolveCacheConfig(withQuery(must(redisUrl(DB)), { client_side: '1' }))),
    test: jestTest,
  });
});
