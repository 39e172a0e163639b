/**
 * @Invalidate by pattern, by target method (argsMap / defaults) and by tag, inside a real Nest app, on
 * mem:// and Redis db 3; tag indexes over more than 1,000 keys, expired keys and the index bound; and tags
 * on Redis Cluster.
 */
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { Cache, CacheService, CashewsConfigError, CashewsModule, createCache, Invalidate } from '../../lib/index.js';
import { tagIndexKey } from '../../lib/tags/tag-keys.js';
import {
  clusterUrl,
  describeCluster,
  describeRedis,
  flushCluster,
  flushRedisDb,
  rawCluster,
  rawRedis,
  redisUrl,
  sleep,
} from '../support/redis.js';

const DB = 3;

interface User {
  id: number;
  name: string;
}

@Injectable()
class ItemsService {
  calls = 0;

  @Cache({ ttl: '1m', key: 'items:page:{page}:{color}' })
  async list(page: number, color: string) {
    this.calls++;
    return { page, color, n: this.calls };
  }

  @Cache({ ttl: '1m' })
  async find(id: number, lang: string) {
    this.calls++;
    return { id, lang, n: this.calls };
  }

  @Cache({ ttl: '1m', key: 'user:{userId}:profile', tags: ['user:{userId}'] })
  async profile(userId: number) {
    this.calls++;
    return { userId, n: this.calls };
  }

  @Cache({ ttl: '1m', key: 'user:{userId}:orders:{page}', tags: ['user:{userId}', 'orders'] })
  async orders(userId: number, page: number) {
    this.calls++;
    return { userId, page, n: this.calls };
  }
}

@Injectable()
class AdminService {
  saved: unknown[] = [];

  @Invalidate('items:page:*')
  async reindex() {
    this.saved.push('reindex');
    return 'ok';
  }

  @Invalidate('user:{user.id}:*')
  async renameUser(user: User) {
    this.saved.push(user);
  }

  @Invalidate([ItemsService, 'find'], {
    argsMap: { id: (item: { itemId: number }) => item.itemId },
    defaults: { lang: 'en' },
  })
  @Invalidate(ItemsService.prototype.list, { argsMap: { page: () => 1 } })
  async updateItem(item: { itemId: number }, color: string) {
    this.saved.push([item, color]);
  }

  @Invalidate({ tags: ['user:{id}'] })
  async deleteUser(id: number) {
    this.saved.push(id);
  }

  @Invalidate({ tags: ['orders'] })
  async failing(): Promise<void> {
    throw new Error('nope');
  }
}

@Module({ providers: [ItemsService, AdminService] })
class FeatureModule {}

function cases(): Array<[string, string | undefined]> {
  return [
    ['mem', 'mem://'],
    ['redis', redisUrl(DB)],
  ];
}

for (const [name, url] of cases()) {
  const suite = name === 'redis' ? describeRedis : describe;
  suite(`@Invalidate [${name}]`, () => {
    let app: INestApplicationContext;
    let items: ItemsService;
    let admin: AdminService;
    let cache: CacheService;

    beforeEach(async () => {
      if (name === 'redis') await flushRedisDb(DB);
      @Module({ imports: [CashewsModule.forRoot(url as string), FeatureModule] })
      class AppModule {}
      app = await NestFactory.createApplicationContext(AppModule, { logger: false });
      items = app.get(ItemsService);
      admin = app.get(AdminService);
      cache = app.get(CacheService);
    });

    afterEach(async () => {
      await app?.close();
    });

    afterAll(async () => {
      if (name === 'redis') await flushRedisDb(DB);
    });

    it('deletes every key matching a pattern after the method succeeds', async () => {
      await items.list(1, 'red');
      await items.list(2, 'blue');
      await items.profile(7);
      expect(items.calls).toBe(3);
      expect(await admin.reindex()).toBe('ok');
      expect(await cache.exists('items:page:1:red')).toBe(false);
      expect(await cache.exists('items:page:2:blue')).toBe(false);
      expect(await cache.exists('user:7:profile')).toBe(true);
      await items.list(1, 'red');
      expect(items.calls).toBe(4);
    });

    it('fills pattern placeholders from the call, escaping values so they cannot widen the pattern', async () => {
      await items.profile(7);
      await items.orders(7, 1);
      await items.profile(8);
      await admin.renameUser({ id: 7, name: 'x' });
      expect(await cache.exists('user:7:profile')).toBe(false);
      expect(await cache.exists('user:7:orders:1')).toBe(false);
      expect(await cache.exists('user:8:profile')).toBe(true);
      // A user-supplied "*" is escaped: nothing else is deleted.
      await admin.renameUser({ id: '*' as unknown as number, name: 'evil' });
      expect(await cache.exists('user:8:profile')).toBe(true);
    });

    it('removes the keys of a target method for mapped arguments (argsMap, defaults, same-named parameters)', async () => {
      await items.find(5, 'en');
      await items.find(5, 'fr');
      await items.find(6, 'en');
      await items.list(1, 'red');
      await items.list(2, 'red');
      const before = items.calls;
      await admin.updateItem({ itemId: 5 }, 'red');
      // find(5, 'en') is gone (id from argsMap, lang from defaults); the others stay.
      await items.find(5, 'en');
      expect(items.calls).toBe(before + 1);
      await items.find(5, 'fr');
      await items.find(6, 'en');
      expect(items.calls).toBe(before + 1);
      // list(1, 'red') is gone (page from argsMap, color from the same-named parameter); list(2, 'red') stays.
      await items.list(1, 'red');
      await items.list(2, 'red');
      expect(items.calls).toBe(before + 2);
    });

    it('deletes by tag: @Cache({ tags }) with @Invalidate({ tags }) and cache.deleteTags', async () => {
      await items.profile(1);
      await items.orders(1, 1);
      await items.orders(1, 2);
      await items.orders(2, 1);
      await admin.deleteUser(1);
      expect(await cache.exists('user:1:profile')).toBe(false);
      expect(await cache.exists('user:1:orders:1')).toBe(false);
      expect(await cache.exists('user:1:orders:2')).toBe(false);
      expect(await cache.exists('user:2:orders:1')).toBe(true);
      expect(await cache.deleteTags('orders')).toBe(1);
      expect(await cache.exists('user:2:orders:1')).toBe(false);

      await cache.set('plain:a', 1, { ttl: '1m', tags: ['t1', 't2'] });
      await cache.set('plain:b', 2, { tags: ['t2'] });
      expect(await cache.deleteTags('t1', 't2')).toBe(2);
      expect(await cache.deleteTags('t2')).toBe(0);
    });

    it('deletes nothing when the method throws', async () => {
      await items.orders(3, 1);
      await expect(admin.failing()).rejects.toThrow('nope');
      expect(await cache.exists('user:3:orders:1')).toBe(true);
    });

    it('does not index a write that exist: false prevented', async () => {
      await cache.set('guarded', 'first', { ttl: '1m' });
      expect(await cache.set('guarded', 'second', { ttl: '1m', exist: false, tags: ['g'] })).toBe(false);
      expect(await cache.deleteTags('g')).toBe(0);
      expect(await cache.get('guarded')).toBe('first');
    });

    it('deletes a tag of 2,000 keys and only those', async () => {
      const tagged = Array.from({ length: 2000 }, (_, i) => `bulk:${i}`);
      await Promise.all(tagged.map((key) => cache.set(key, 1, { ttl: '1m', tags: ['bulk'] })));
      await Promise.all(Array.from({ length: 200 }, (_, i) => cache.set(`other:${i}`, 1, { ttl: '1m' })));
      expect(await cache.deleteTags('bulk')).toBe(2000);
      expect(await cache.exists('bulk:0')).toBe(false);
      expect(await cache.exists('bulk:1999')).toBe(false);
      expect(await cache.exists('other:0')).toBe(true);
    });

    it('skips tagged keys that expired and prunes them from the index', async () => {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => cache.set(`short:${i}`, i, { ttl: 100, tags: ['short'] })),
      );
      await cache.set('long', 1, { ttl: '1m', tags: ['short'] });
      await sleep(300);
      // A new write prunes expired members lazily.
      await cache.set('long2', 1, { ttl: '1m', tags: ['short'] });
      if (name === 'redis') {
        const raw = rawRedis(url as string);
        try {
          expect(await raw.zcard(tagIndexKey('short'))).toBe(2);
          const left = await raw.pttl(tagIndexKey('short'));
          expect(left).toBeGreaterThan(55_000);
          expect(left).toBeLessThanOrEqual(61_000);
        } finally {
          raw.disconnect();
        }
      }
      expect(await cache.deleteTags('short')).toBe(2);
    });
  });
}

describeRedis('tag indexes on Redis do not outlive their keys', () => {
  afterAll(() => flushRedisDb(DB));

  it('gives the index the expiry of its latest-expiring key, and none while a key never expires', async () => {
    const cache = await createCache(redisUrl(DB) as string);
    const raw = rawRedis(redisUrl(DB) as string);
    try {
      await cache.set('e:1', 1, { ttl: 200, tags: ['e'] });
      const left = await raw.pttl(tagIndexKey('e'));
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(1_200);
      await cache.set('e:2', 1, { tags: ['e'] });
      expect(await raw.pttl(tagIndexKey('e'))).toBe(-1);
      await cache.delete('e:2');
      await sleep(1_300);
      // Only e:2 (no TTL) keeps the index alive; once it is re-set with a TTL the index expires with it.
      await cache.set('e:2', 1, { ttl: 100, tags: ['e'] });
      await sleep(1_300);
      expect(await raw.exists(tagIndexKey('e'))).toBe(0);
    } finally {
      raw.disconnect();
      await cache.close();
    }
  });
});

describe('@Invalidate validation', () => {
  it('rejects a target method without caching decorator, unknown argsMap names and unmapped parameters', () => {
    class Plain {
      async get(id: number) {
        return id;
      }
      @Cache({ ttl: '1m' })
      async find(id: number, lang: string) {
        return [id, lang];
      }
    }
    const decorate = (decorator: MethodDecorator) => {
      class Host {
        async update(id: number) {
          return id;
        }
      }
      decorator(Host.prototype, 'update', Object.getOwnPropertyDescriptor(Host.prototype, 'update')!);
    };
    expect(() => decorate(Invalidate([Plain, 'get']))).toThrow(CashewsConfigError);
    expect(() => decorate(Invalidate([Plain, 'find'], { argsMap: { nope: () => 1 } }))).toThrow(
      /"nope" is not a parameter/,
    );
    expect(() => decorate(Invalidate([Plain, 'find']))).toThrow(/parameter "lang"/);
    expect(() => decorate(Invalidate([Plain, 'find'], { defaults: { lang: 'en' } }))).not.toThrow();
    expect(() => decorate(Invalidate('user:{missing}:*'))).toThrow(CashewsConfigError);
    expect(() => decorate(Invalidate({ tags: ['a*'] }))).toThrow(CashewsConfigError);
    expect(() => Invalidate('x:*', { tll: 1 } as never)).toThrow(/unknown option "tll"/);
  });
});

describeCluster('tags on Redis Cluster', () => {
  beforeAll(() => flushCluster());
  afterAll(() => flushCluster());

  it('indexes keys of many slots and deletes them by tag', async () => {
    const cache = await createCache(clusterUrl() as string);
    const raw = await rawCluster();
    try {
      await Promise.all(Array.from({ length: 300 }, (_, i) => cache.set(`ck:${i}`, i, { ttl: '1m', tags: ['ctag'] })));
      await cache.set('ck:other', 1, { ttl: '1m', tags: ['other'] });
      expect(await raw.zcard(tagIndexKey('ctag'))).toBe(300);
      expect(await raw.pttl(tagIndexKey('ctag'))).toBeGreaterThan(55_000);
      expect(await cache.deleteTags('ctag')).toBe(300);
      expect(await cache.exists('ck:0')).toBe(false);
      expect(await cache.exists('ck:other')).toBe(true);
      expect(await raw.exists(tagIndexKey('ctag'))).toBe(0);
      expect(await cache.set('ck:other', 2, { exist: false, tags: ['x'] })).toBe(false);
      expect(await cache.deleteTags('x')).toBe(0);
    } finally {
      raw.disconnect();
      await cache.close();
    }
  });
});
