/**
 * The backend contract (test/support/backend-contract.ts, through CacheService) on Redis Cluster, plus
 * cluster-specific checks. Kept apart from test/backends.e2e-spec.ts so that only this file waits for the
 * private test cluster (the cluster Jest project), while the memory and Redis runs go in parallel elsewhere.
 * Isolation: the private test cluster, flushed after the file.
 */
import { CacheService, createCache } from '../../lib/index.js';
import { backendContract, collect, type CacheFactoryOptions } from '../support/backend-contract.js';
import { clusterUrl, describeCluster, flushCluster, rawCluster } from '../support/redis.js';

const SECRET = 'contract-secret';

function must(url: string | undefined): string {
  if (!url) throw new Error('Redis URL missing although the suite is not skipped');
  return url;
}

describeCluster('redis cluster backend', () => {
  afterAll(async () => {
    await flushCluster();
  });

  backendContract('redis+cluster://', () => createCache(must(clusterUrl())));
  backendContract('redis+cluster:// with secret', () => createCache(must(clusterUrl()), { secret: SECRET }), {
    secret: SECRET,
    makeWith: (options: CacheFactoryOptions) => createCache(must(clusterUrl()), { secret: SECRET, ...options }),
  });

  describe('keys spread over every master', () => {
    let cache: CacheService;
    let cluster: Awaited<ReturnType<typeof rawCluster>>;
    const keys = Array.from({ length: 60 }, (_, i) => `spread:${i}`);

    /** How many of `keys` each master holds, read directly from the masters. */
    async function perMaster(pattern: string): Promise<number[]> {
      return Promise.all(cluster.nodes('master').map(async (node) => (await node.keys(pattern)).length));
    }

    beforeAll(async () => {
      cluster = await rawCluster();
    });

    afterAll(() => {
      cluster.disconnect();
    });

    beforeEach(async () => {
      cache = await createCache(must(clusterUrl()));
      await flushCluster();
    });

    afterEach(async () => {
      await cache.close();
    });

    it('the test keys really live in different slots on all three masters', async () => {
      const slots = new Set(await Promise.all(keys.map((key) => cluster.cluster('KEYSLOT', key))));
      expect(slots.size).toBeGreaterThan(10);
      await cache.setMany(keys.map((key, i): [string, number] => [key, i]));
      const counts = await perMaster('spread:*');
      expect(counts).toHaveLength(3);
      expect(counts.every((count) => count > 0)).toBe(true);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(keys.length);
    });

    it('getMany, deleteMany and setMany with a ttl work across slots', async () => {
      await cache.setMany(
        keys.map((key, i): [string, number] => [key, i]),
        { ttl: '1m' },
      );
      await expect(cache.getMany([...keys].reverse())).resolves.toEqual(keys.map((_, i) => i).reverse());
      const ttls = await Promise.all(keys.slice(0, 10).map((key) => cluster.pttl(key)));
      expect(ttls.every((ttl) => ttl > 0 && ttl <= 60_000)).toBe(true);
      await expect(cache.deleteMany(keys.slice(0, 30))).resolves.toBe(30);
      const left = await cache.getMany(keys);
      expect(left.filter((value) => value === undefined)).toHaveLength(30);
    });

    it('scan, getMatch and deleteMatch reach every master', async () => {
      await cache.setMany(keys.map((key, i): [string, number] => [key, i]));
      await cache.set('elsewhere', 1);
      const scanned = await collect(cache.scan('spread:*'));
      expect([...scanned].sort()).toEqual([...keys].sort());
      const pairs = await collect(cache.getMatch<number>('spread:*'));
      expect(pairs).toHaveLength(keys.length);
      expect(pairs.every(([key, value]) => keys[value] === key)).toBe(true);
      await expect(cache.deleteMatch('spread:*')).resolves.toBe(keys.length);
      await expect(perMaster('spread:*')).resolves.toEqual([0, 0, 0]);
      await expect(cache.exists('elsewhere')).resolves.toBe(true);
    });

    it('clear empties every master', async () => {
      await cache.setMany(keys.map((key, i): [string, number] => [key, i]));
      await cache.clear();
      await expect(perMaster('*')).resolves.toEqual([0, 0, 0]);
    });

    it('concurrent reads over every master: each decoded, and counted as a command, a hit or a miss', async () => {
      await cache.setMany(keys.map((key, i): [string, { i: number }] => [key, { i }]));
      const before = cache.stats().backends[0];
      const values = await Promise.all([...keys, 'spread:none'].map((key) => cache.get(key)));
      expect(values).toEqual([...keys.map((_, i) => ({ i })), undefined]);
      const after = cache.stats().backends[0];
      expect(after.commands - before.commands).toBe(keys.length + 1);
      expect(after.hits - before.hits).toBe(keys.length);
      expect(after.misses - before.misses).toBe(1);
    });
  });
});
