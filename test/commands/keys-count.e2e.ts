/**
 * `getKeysCount()` through CacheService: the instance's keys, with protection state (locks) and tag indexes left out;
 * exact on mem:// (expired entries included out), on Redis a count of the whole database, and with prefix routes the
 * sum of the keys each route owns, so two routes sharing one database count each key once. Redis: db 8 of the
 * worker's Redis, flushed before each test and after the file.
 */
import { jest } from '@jest/globals';
import { CacheService, createCache } from '../../lib/index.js';
import { describeRedis, flushRedisDb, redisUrl } from '../support/redis.js';

const DB = 8;

/** Writes three plain keys, one tagged key, a set, a bitmap and a sliding counter, and takes a lock: 7 keys. */
async function fill(cache: CacheService, prefix = ''): Promise<void> {
  await cache.setMany({ [`${prefix}a`]: 1, [`${prefix}b`]: 'two', [`${prefix}c`]: { three: 3 } });
  await cache.set(`${prefix}tagged`, 'v', { tags: [`${prefix}tag-1`, `${prefix}tag-2`] });
  await cache.setAdd(`${prefix}set`, ['x', 'y']);
  await cache.incrBits(`${prefix}bits`, [7]);
  await cache.sliceIncr(`${prefix}slice`, 0, 1, { max: 3 });
  await expect(cache.setLock(`${prefix}job`, 'token', '1m')).resolves.toBe(true);
}

describe('getKeysCount on mem://', () => {
  let cache: CacheService;
  afterEach(async () => {
    await cache.close();
    jest.useRealTimers();
  });

  it('counts every key once, locks and tag indexes left out, and stops counting deleted and expired keys', async () => {
    jest.useFakeTimers();
    cache = await createCache('mem://');
    await expect(cache.getKeysCount()).resolves.toBe(0);
    await fill(cache);
    await expect(cache.getKeysCount()).resolves.toBe(7);
    await cache.deleteTags('tag-1');
    await cache.setPop('set', 2);
    await expect(cache.getKeysCount()).resolves.toBe(5);
    await cache.set('short', 'v', { ttl: 1_000 });
    await expect(cache.getKeysCount()).resolves.toBe(6);
    jest.advanceTimersByTime(1_001);
    await expect(cache.getKeysCount()).resolves.toBe(5);
  });

  it('with prefix routes: the sum over routes', async () => {
    cache = await createCache('mem://', { prefixes: { 'tmp:': 'mem://?size=100' } });
    await fill(cache);
    await fill(cache, 'tmp:');
    await expect(cache.getKeysCount()).resolves.toBe(14);
    await cache.clear();
    await expect(cache.getKeysCount()).resolves.toBe(0);
  });
});

describeRedis('getKeysCount on Redis', () => {
  const url = (): string => redisUrl(DB)!;
  let cache: CacheService;
  beforeEach(() => flushRedisDb(DB));
  afterEach(() => cache.close());
  afterAll(() => flushRedisDb(DB));

  it('counts the keys of the database, locks, tag indexes and tag lists left out', async () => {
    cache = await createCache(url());
    await expect(cache.getKeysCount()).resolves.toBe(0);
    await fill(cache);
    await expect(cache.getKeysCount()).resolves.toBe(7);
    await cache.deleteTags('tag-2');
    await cache.delete('a');
    await expect(cache.getKeysCount()).resolves.toBe(5);
  });

  it('with a memory route: the Redis keys plus the memory ones', async () => {
    cache = await createCache(url(), { prefixes: { 'tmp:': 'mem://?size=100' } });
    await fill(cache);
    await fill(cache, 'tmp:');
    await expect(cache.getKeysCount()).resolves.toBe(14);
  });

  it('two routes on one database count each key once: each route owns its own keys', async () => {
    cache = await createCache(url(), { prefixes: { 'b:': url() } });
    await fill(cache, 'a:');
    await fill(cache, 'b:');
    await expect(cache.getKeysCount()).resolves.toBe(14);
  });
});
