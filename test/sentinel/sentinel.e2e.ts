/**
 * `redis+sentinel://` against a real Sentinel, master and replica on loopback (test/support/sentinel.ts): the
 * client finds the master through the Sentinel, the everyday commands work on it, and the backend conformance suite
 * runs on a RedisBackend connected that way. The failover itself is in failover.e2e-spec.ts.
 */
import { RedisBackend } from '../../lib/backends/redis.backend.js';
import { resolveCacheConfig } from '../../lib/config/cache-url.js';
import { CacheBackendError, createCache, type CacheService } from '../../lib/index.js';
import { runBackendConformance } from '../../lib/testing/index.js';
import { jestTest } from '../support/jest-runner.js';
import { describeRedisServer, rawRedis } from '../support/redis.js';
import { startSentinelDeployment, type SentinelDeployment } from '../support/sentinel.js';

describeRedisServer('redis+sentinel://', () => {
  let deployment: SentinelDeployment;
  const url = (db?: number, params?: Record<string, string>): string => deployment.url(db, params);

  beforeAll(async () => {
    deployment = await startSentinelDeployment();
    await deployment.ready();
  }, 60_000);
  afterAll(async () => {
    await deployment?.stop();
  });

  describe('createCache', () => {
    const opened: CacheService[] = [];
    async function open(cacheUrl: string, options: Parameters<typeof createCache>[1] = {}): Promise<CacheService> {
      const cache = await createCache(cacheUrl, options);
      opened.push(cache);
      return cache;
    }
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((cache) => cache.close()));
      // Flushed on the master directly: a cache with wait_replicas above the replicas could not clear.
      const master = rawRedis(deployment.first.url);
      try {
        await master.flushall();
      } finally {
        master.disconnect();
      }
    });

    it('connects to the master the Sentinel names, and set/get/incr/lock work there', async () => {
      const cache = await open(url(2), { safe: false });
      expect(await deployment.masterPort()).toBe(deployment.first.port);
      await expect(cache.set('sentinel:a', { n: 1 }, { ttl: '1m' })).resolves.toBe(true);
      await expect(cache.get('sentinel:a')).resolves.toEqual({ n: 1 });
      await expect(cache.incr('sentinel:counter')).resolves.toBe(1);
      await expect(cache.incr('sentinel:counter', 4)).resolves.toBe(5);
      await expect(cache.lock('sentinel:lock', '5s', async () => 'locked')).resolves.toBe('locked');

      // The writes are on the master, in the URL's database, and replicated to the replica.
      const master = rawRedis(`${deployment.first.url}/2`);
      const replica = rawRedis(`${deployment.second.url}/2`);
      try {
        expect(await master.get('sentinel:counter')).toBe('5');
        expect(await master.exists('sentinel:a')).toBe(1);
        await master.call('WAIT', '1', '2000');
        expect(await replica.get('sentinel:counter')).toBe('5');
      } finally {
        master.disconnect();
        replica.disconnect();
      }
    });

    it('wait_replicas=1: writes answer once the replica holds them', async () => {
      const cache = await open(url(3, { wait_replicas: '1' }), { safe: false });
      await expect(cache.set('sentinel:waited', 'v')).resolves.toBe(true);
      await expect(cache.incr('sentinel:waited-counter')).resolves.toBe(1);
      const replica = rawRedis(`${deployment.second.url}/3`);
      try {
        // No WAIT of our own here: the cache's answer already means the replica has them.
        expect(await replica.get('sentinel:waited-counter')).toBe('1');
        expect(await replica.exists('sentinel:waited')).toBe(1);
      } finally {
        replica.disconnect();
      }
    });

    it('wait_replicas above the number of replicas: writes fail (CacheBackendError with safe=0), reads work', async () => {
      const cache = await open(url(4, { wait_replicas: '2', command_timeout: '400ms' }), { safe: false });
      const error: unknown = await cache.set('sentinel:unconfirmed', 'v').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CacheBackendError);
      expect(String((error as Error).message)).toMatch(/not confirmed by 2 replica/);
      await expect(cache.get('sentinel:nothing')).resolves.toBeUndefined();
    });

    it('a master name the Sentinel does not know: safe mode answers misses; safe=0 fails at start-up', async () => {
      const unknown = `redis+sentinel://127.0.0.1:${deployment.sentinel.port}/nosuchmaster?connect_timeout=300ms`;
      const cache = await open(unknown);
      await expect(cache.get('k')).resolves.toBeUndefined();
      await expect(cache.set('k', 'v')).resolves.toBe(false);
      await expect(createCache(unknown, { safe: false })).rejects.toBeInstanceOf(CacheBackendError);
    });
  });

  runBackendConformance({
    name: 'redis+sentinel://',
    create: () => new RedisBackend(resolveCacheConfig(url(5))),
    test: jestTest,
  });
});
