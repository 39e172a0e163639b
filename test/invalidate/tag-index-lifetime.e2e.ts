/**
 * "A key stays in its tags as long as it lives", on mem://, Redis and Cluster: a tagged key whose life a later write
 * extends (`set` without tags or with other tags, `expire`, `setMany`, a transaction's commit) is still deleted by
 * its tag once its first TTL has passed.
 *
 * "An index never outlives its keys" on Redis (db 15, flushed around each test) and on the test Cluster
 * (flushed): tagged keys without a TTL removed by `delete`, `deleteMany`, `deleteMatch` or through another of
 * their tags leave no tag index (nor tag list) behind once none of their members exists (issue #9, item 8:
 * 145 orphaned indexes after one run of cashews' `test_tags_gte_100`).
 */
import type { Cluster, Redis } from 'ioredis';
import { CacheService, createCache } from '../../lib/index.js';
import {
  clusterSkipReason,
  clusterUrl,
  flushCluster,
  flushRedisDb,
  rawCluster,
  rawRedis,
  redisSkipReason,
  redisUrl,
  sleep,
} from '../support/redis.js';

const DB = 15;

/** Every key of the server (every master on Cluster) matching `pattern`. */
async function rawKeys(raw: Redis | Cluster, pattern: string): Promise<string[]> {
  const nodes = 'nodes' in raw ? raw.nodes('master') : [raw];
  const keys = await Promise.all(nodes.map((node) => node.keys(pattern)));
  return keys.flat().sort();
}

const cases = [
  {
    label: 'redis db 15',
    url: () => redisUrl(DB),
    skip: redisSkipReason,
    flush: () => flushRedisDb(DB),
    raw: async () => rawRedis(redisUrl(DB)!) as Redis | Cluster,
  },
  {
    label: 'cluster',
    url: clusterUrl,
    skip: clusterSkipReason,
    flush: flushCluster,
    raw: async () => (await rawCluster()) as Redis | Cluster,
  },
];

for (const c of cases) {
  const url = c.url();
  const title = `tag indexes never outlive their keys on ${c.label}`;
  if (!url) {
    describe.skip(`${title} [${c.skip()}]`, () => undefined);
    continue;
  }
  describe(title, () => {
    let cache: CacheService;
    let raw: Redis | Cluster;

    beforeEach(async () => {
      await c.flush();
      cache = await createCache(url);
      raw = await c.raw();
    });

    afterEach(async () => {
      raw.disconnect();
      await cache.close();
      await c.flush();
    });

    it('keys without TTL removed by delete, deleteMany, deleteMatch and another tag leave no index behind', async () => {
      // 100 keys, each under its own tag, its decile's tag and a shared one; no TTL.
      for (let i = 0; i < 100; i++) {
        const decile = Math.floor(i / 10);
        await cache.set(`lt:${decile}:${i}`, i, { tags: [`own:${i}`, `decile:${decile}`, 'all'] });
      }
      expect(await rawKeys(raw, 'cashews:tag:*')).toHaveLength(100 + 10 + 1);

      for (let i = 0; i < 10; i++) await cache.delete(`lt:0:${i}`);
      await cache.deleteMany(Array.from({ length: 10 }, (_, j) => `lt:1:${10 + j}`));
      await cache.deleteMatch('lt:2:*');
      await cache.deleteTags('decile:3'); // the keys leave own:<i> and all too

      const left = Array.from({ length: 60 }, (_, j) => 40 + j);
      const expected = [
        'cashews:tag:all',
        ...[4, 5, 6, 7, 8, 9].map((d) => `cashews:tag:decile:${d}`),
        ...left.map((i) => `cashews:tag:own:${i}`),
      ].sort();
      expect(await rawKeys(raw, 'cashews:tag:*')).toEqual(expected);
      expect(await raw.zcard('cashews:tag:all')).toBe(60);

      // Through a shared tag: every key goes, and with them every index and tag list.
      await expect(cache.deleteTags('all')).resolves.toBe(60);
      expect(await rawKeys(raw, '*')).toEqual([]);
    });

    it('an index that loses its only key without TTL expires with its remaining keys', async () => {
      await cache.set('lt:forever', 1, { tags: ['mixed'] });
      await cache.set('lt:short', 2, { ttl: '1m', tags: ['mixed'] });
      expect(await raw.pttl('cashews:tag:mixed')).toBe(-1);
      await cache.delete('lt:forever');
      const pttl = await raw.pttl('cashews:tag:mixed');
      expect(pttl).toBeGreaterThan(50_000);
      expect(pttl).toBeLessThanOrEqual(61_000);
      // Deleting a tag still finds what is left, and then nothing remains.
      await expect(cache.deleteTags('mixed')).resolves.toBe(1);
      expect(await rawKeys(raw, '*')).toEqual([]);
    });

    it("the index and the tag list follow the key's new expiry, longer or shorter", async () => {
      await cache.set('lt:moved', 1, { ttl: '1m', tags: ['moved'] });
      await cache.expire('lt:moved', '1h');
      for (const key of ['cashews:tag:moved', 'cashews:tags-of:lt:moved']) {
        expect(await raw.pttl(key)).toBeGreaterThan(3_500_000);
      }
      await cache.set('lt:moved', 2, { ttl: '10s' });
      expect(await raw.pttl('cashews:tags-of:lt:moved')).toBeLessThanOrEqual(10_000);
      expect(await raw.pttl('cashews:tag:moved')).toBeLessThanOrEqual(11_000);
      await cache.set('lt:moved', 3);
      expect(await raw.pttl('cashews:tags-of:lt:moved')).toBe(-1);
      expect(await raw.pttl('cashews:tag:moved')).toBe(-1);
      // A key that never had tags gets no tag list.
      await cache.set('lt:plain', 1, { ttl: '1m' });
      await cache.expire('lt:plain', '1h');
      expect(await rawKeys(raw, 'cashews:*')).toEqual(['cashews:tag:moved', 'cashews:tags-of:lt:moved']);
    });

    it('a key re-tagged after its removal is indexed again, and its removal cleans up again', async () => {
      await cache.set('lt:again', 1, { tags: ['a', 'b'] });
      await cache.delete('lt:again');
      await cache.set('lt:again', 2, { tags: ['b'] });
      expect(await rawKeys(raw, 'cashews:tag:*')).toEqual(['cashews:tag:b']);
      await expect(cache.deleteTags('b')).resolves.toBe(1);
      expect(await rawKeys(raw, '*')).toEqual([]);
    });
  });
}

/**
 * The first TTL of the tagged writes below, and a wait that outlasts it and the second a Redis index is kept past its
 * latest entry's time: an entry left with the first TTL is gone by then.
 */
const SHORT = '200ms';
const PAST_SHORT = 1_400;

const extended = [
  { label: 'mem://', url: () => 'mem://' as string | undefined, skip: () => '', flush: async () => undefined },
  ...cases,
];

for (const c of extended) {
  const url = c.url();
  const title = `a tagged key whose life is extended stays in its tag on ${c.label}`;
  if (!url) {
    describe.skip(`${title} [${c.skip()}]`, () => undefined);
    continue;
  }
  describe(title, () => {
    let cache: CacheService;

    beforeEach(async () => {
      await c.flush();
      cache = await createCache(url);
    });

    afterEach(async () => {
      await cache.close();
      await c.flush();
    });

    /** Tags `key` with a short TTL, lets `extend` lengthen its life, waits past the short TTL, deletes the tag. */
    async function outlives(key: string, extend: () => Promise<unknown>, value: unknown): Promise<void> {
      await cache.set(key, 'v1', { ttl: SHORT, tags: ['items'] });
      await extend();
      await sleep(PAST_SHORT);
      expect(await cache.get(key)).toBe(value);
      await expect(cache.deleteTags('items')).resolves.toBe(1);
      expect(await cache.get(key)).toBeUndefined();
    }

    it('a set without tags and a longer TTL', async () => {
      await outlives('ext:set', () => cache.set('ext:set', 'v2', { ttl: '1h' }), 'v2');
    });

    it('a set without tags and without TTL', async () => {
      await outlives('ext:forever', () => cache.set('ext:forever', 'v2', { ttl: 'never' }), 'v2');
    });

    it('a set naming other tags', async () => {
      await outlives('ext:retag', () => cache.set('ext:retag', 'v2', { ttl: '1h', tags: ['featured'] }), 'v2');
      await expect(cache.deleteTags('featured')).resolves.toBe(0);
    });

    it('expire()', async () => {
      await outlives('ext:expire', () => cache.expire('ext:expire', '1h'), 'v1');
    });

    it('setMany', async () => {
      await outlives(
        'ext:many',
        () =>
          cache.setMany(
            [
              ['ext:many', 'v2'],
              ['ext:other', 'x'],
            ],
            { ttl: '1h' },
          ),
        'v2',
      );
    });

    // Keys of one hash slot: on Cluster the commit is one MULTI/EXEC, and the tags are kept after it.
    it("a transaction's set and expire", async () => {
      await cache.set('{ext}:tx-set', 'v1', { ttl: SHORT, tags: ['items'] });
      await cache.set('{ext}:tx-expire', 'v1', { ttl: SHORT, tags: ['items'] });
      await cache.transaction(async () => {
        await cache.set('{ext}:tx-set', 'v2', { ttl: '1h' });
        await cache.expire('{ext}:tx-expire', '1h');
      });
      await sleep(PAST_SHORT);
      expect(await cache.getMany(['{ext}:tx-set', '{ext}:tx-expire'])).toEqual(['v2', 'v1']);
      await expect(cache.deleteTags('items')).resolves.toBe(2);
      expect(await cache.getMany(['{ext}:tx-set', '{ext}:tx-expire'])).toEqual([undefined, undefined]);
    });
  });
}
