/**
 * Runs the backend contract on memory and Redis, plus Redis-specific checks (the cluster runs are in
 * test/backends/contract-cluster.e2e.ts). Redis isolation: this file uses databases 5 and 6 of the
 * discovered Redis (flushed after the file). db 0 is never touched.
 */
import { CacheService, createCache } from '../lib/index.js';
import { backendContract, collect, type CacheFactoryOptions } from './support/backend-contract.js';
import { describeRedis, flushRedisDb, rawRedis, redisUrl, withQuery } from './support/redis.js';

const PLAIN_DB = 5;
const SIGNED_DB = 6;
const SECRET = 'contract-secret';

function must(url: string | undefined): string {
  if (!url) throw new Error('Redis URL missing although the suite is not skipped');
  return url;
}

describe('memory backend', () => {
  backendContract('mem://', () => createCache('mem://'));
  backendContract('mem:// with secret', () => createCache('mem://', { secret: SECRET }), {
    secret: SECRET,
    makeWith: (options: CacheFactoryOptions) => createCache('mem://', { secret: SECRET, ...options }),
  });
  backendContract('createCache() default', () => createCache());
});

describeRedis('redis backend', () => {
  afterAll(async () => {
    await flushRedisDb(PLAIN_DB);
    await flushRedisDb(SIGNED_DB);
  });

  backendContract(`redis db ${PLAIN_DB}`, () => createCache(must(redisUrl(PLAIN_DB))));
  backendContract(
    `redis db ${SIGNED_DB} with secret`,
    () => createCache(must(redisUrl(SIGNED_DB)), { secret: SECRET }),
    {
      secret: SECRET,
      makeWith: (options: CacheFactoryOptions) =>
        createCache(must(redisUrl(SIGNED_DB)), { secret: SECRET, ...options }),
    },
  );

  describe('redis specifics', () => {
    let cache: CacheService;
    const raw = (): ReturnType<typeof rawRedis> => rawRedis(must(redisUrl(SIGNED_DB)));

    beforeEach(async () => {
      cache = await createCache(must(redisUrl(SIGNED_DB)), { secret: SECRET });
    });

    afterEach(async () => {
      await cache.close();
      await flushRedisDb(SIGNED_DB);
    });

    it('secret in the URL works like the option', async () => {
      const fromUrl = await createCache(withQuery(must(redisUrl(SIGNED_DB)), { secret: SECRET }));
      try {
        await fromUrl.set('specific:url-secret', { a: 1 });
        await expect(cache.get('specific:url-secret')).resolves.toEqual({ a: 1 });
      } finally {
        await fromUrl.close();
      }
    });

    it.each<[string, string]>([
      ['a plain string', 'plain'],
      ['a JSON string', '{"a":1}'],
      ['a JSON-quoted string', '"text"'],
      ['an unsigned envelope-looking string', 'c1:"text"'],
      ['an envelope with a forged MAC', 'c1s:AAAA:"text"'],
    ])('a raw SET of %s under secret reads as a miss', async (_label, value) => {
      const client = raw();
      try {
        await client.set('specific:raw', value);
        await expect(cache.get('specific:raw')).resolves.toBeUndefined();
        await expect(cache.get('specific:raw', 'dflt')).resolves.toBe('dflt');
      } finally {
        client.disconnect();
      }
    });

    it('an unsigned instance on the same db cannot feed values to a signed one', async () => {
      const unsigned = await createCache(must(redisUrl(SIGNED_DB)));
      try {
        await unsigned.set('specific:unsigned', { a: 1 });
        await expect(cache.get('specific:unsigned')).resolves.toBeUndefined();
        await cache.set('specific:signed', { b: 2 });
        await expect(cache.get('specific:signed')).resolves.toEqual({ b: 2 });
      } finally {
        await unsigned.close();
      }
    });

    it('values written by the cache are stored as Redis strings with the requested TTL', async () => {
      const client = raw();
      try {
        await cache.set('specific:ttl', 'v', { ttl: '10s' });
        await expect(client.type('specific:ttl')).resolves.toBe('string');
        const pttl = await client.pttl('specific:ttl');
        expect(pttl).toBeGreaterThan(9000);
        expect(pttl).toBeLessThanOrEqual(10_000);
      } finally {
        client.disconnect();
      }
    });

    it('does not touch other databases', async () => {
      const client = rawRedis(must(redisUrl(PLAIN_DB)));
      try {
        await client.set('specific:other-db', 'keep');
        await cache.clear();
        await expect(client.get('specific:other-db')).resolves.toBe('keep');
        await client.del('specific:other-db');
      } finally {
        client.disconnect();
      }
    });
  });
});

describe('disabled cache', () => {
  it.each<[string, () => Promise<CacheService>]>([
    ['mem://?enable=0', () => createCache('mem://?enable=0')],
    ['enable: false', () => createCache('mem://', { enable: false })],
  ])('%s: every command is a no-op answering a miss', async (_label, make) => {
    const cache = await make();
    try {
      await expect(cache.set('k', 1)).resolves.toBe(false);
      await expect(cache.get('k')).resolves.toBeUndefined();
      await expect(cache.get('k', 'dflt')).resolves.toBe('dflt');
      await expect(cache.getMany(['k', 'j'])).resolves.toEqual([undefined, undefined]);
      await expect(cache.exists('k')).resolves.toBe(false);
      await expect(cache.delete('k')).resolves.toBe(false);
      await expect(cache.deleteMany(['k'])).resolves.toBe(0);
      await expect(cache.deleteMatch('*')).resolves.toBe(0);
      await expect(cache.expire('k', 1000)).resolves.toBe(false);
      await expect(collect(cache.scan('*'))).resolves.toEqual([]);
      await cache.setMany({ a: 1 });
      await expect(cache.exists('a')).resolves.toBe(false);
    } finally {
      await cache.close();
    }
  });

  it('the options object overrides the URL', async () => {
    const cache = await createCache('mem://?enable=0', { enable: true });
    try {
      await expect(cache.set('k', 1)).resolves.toBe(true);
      await expect(cache.get('k')).resolves.toBe(1);
    } finally {
      await cache.close();
    }
  });
});
