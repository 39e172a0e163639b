/**
 * The opt-in cache-manager compatible provider (`forRoot(url, { cacheManagerCompat: true })`), run through the
 * examples of cache-manager's README (v7) and of the NestJS caching docs, with millisecond TTLs, on mem:// and Redis.
 * Redis isolation: this file uses database 11 of the discovered Redis (flushed after the file). db 0 is never touched.
 */
import { Inject, Injectable, type INestApplicationContext } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  backgroundSettled,
  CACHE_MANAGER,
  CacheManager,
  CacheService,
  CashewsConfigError,
  CashewsModule,
  getCacheManagerToken,
  InjectCache,
} from '../../lib/index.js';
import { describeRedis, flushRedisDb, pollUntil, redisUrl } from '../support/redis.js';

const DB = 11;
const TEN_SECONDS = 10_000;

function must(url: string | undefined): string {
  if (!url) throw new Error('Redis URL missing although the suite is not skipped');
  return url;
}

/** TTLs are in milliseconds: a value set for `ttl` ms has at most `ttl` and far more than `ttl - 5 s` left. */
function expectAbout(left: number, ttl: number): void {
  expect(left).toBeLessThanOrEqual(ttl);
  expect(left).toBeGreaterThan(ttl - 5_000);
}

/** Code written for @nestjs/cache-manager, with only the import changed. */
@Injectable()
class LegacyService {
  constructor(
    @Inject(CACHE_MANAGER) readonly cacheManager: CacheManager,
    readonly byClass: CacheManager,
    readonly cache: CacheService,
    @Inject(getCacheManagerToken('sessions')) readonly sessions: CacheManager,
    @InjectCache('sessions') readonly sessionsCache: CacheService,
  ) {}
}

const BACKENDS: Array<[string, boolean, () => string]> = [
  ['mem://', false, () => 'mem://'],
  ['redis', true, () => must(redisUrl(DB))],
];

for (const [name, needsRedis, url] of BACKENDS) {
  (needsRedis ? describeRedis : describe)(`cache-manager compatible provider on ${name}`, () => {
    let moduleRef: TestingModule;
    let service: LegacyService;
    let cacheManager: CacheManager;
    let cache: CacheService;

    beforeEach(async () => {
      moduleRef = await Test.createTestingModule({
        imports: [
          // cache-manager's README: createCache({ ttl: 10000, refreshThreshold: 3000 })
          CashewsModule.forRoot(url(), { ttl: TEN_SECONDS, cacheManagerCompat: true }),
          CashewsModule.forRoot(url(), { name: 'sessions', cacheManagerCompat: true }),
        ],
        providers: [LegacyService],
      }).compile();
      await moduleRef.init();
      service = moduleRef.get(LegacyService);
      ({ cacheManager, cache } = service);
      await cache.clear();
    });

    afterEach(async () => {
      await moduleRef.close();
    });

    afterAll(async () => {
      if (needsRedis) await flushRedisDb(DB);
    });

    it('is one provider over the instance: by CACHE_MANAGER, by class, and per named instance', async () => {
      expect(CACHE_MANAGER).toBe('CACHE_MANAGER'); // the string @nestjs/cache-manager exports
      expect(service.byClass).toBe(cacheManager);
      expect(cacheManager.cache).toBe(cache);
      expect(service.sessions.cache).toBe(service.sessionsCache);
      expect(service.sessions.cacheId()).toBe('sessions');
      await cacheManager.set('shared', 'written by cache-manager code');
      expect(await cache.get('shared')).toBe('written by cache-manager code');
    });

    it('README quick start: set, get, del, get, wrap', async () => {
      expect(await cacheManager.set('foo', 'bar')).toBe('bar');
      expect(await cacheManager.get('foo')).toBe('bar');
      expect(await cacheManager.del('foo')).toBe(true);
      expect(await cacheManager.get('foo')).toBeUndefined(); // v7: undefined, not null
      expect(await cacheManager.wrap('key', () => 'value')).toBe('value');
    });

    it('set: ttl in milliseconds; without one, the module default; 0, no expiry', async () => {
      await cacheManager.set('key-1', 'value 1');
      expectAbout(await cache.getExpire('key-1'), TEN_SECONDS);
      // "expires after 5 seconds"
      await cacheManager.set('key 2', 'value 2', 5000);
      expectAbout(await cache.getExpire('key 2'), 5000);
      // NestJS docs: "To disable expiration of the cache, set the ttl configuration property to 0"
      await cacheManager.set('key 3', 'value 3', 0);
      expect(await cache.getExpire('key 3')).toBe(-1);
      expect(await cacheManager.get('key 3')).toBe('value 3');
    });

    it('set: a value expires after its ttl in ms', async () => {
      await cacheManager.set('short', 'value', 300);
      expect(await cacheManager.get('short')).toBe('value');
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(await cacheManager.get('short')).toBeUndefined();
    });

    it('set: a negative, NaN or non-number ttl is refused, nothing stored', async () => {
      for (const ttl of [-1, NaN, '5m']) {
        await expect(cacheManager.set('bad', 'value', ttl as number)).rejects.toThrow(CashewsConfigError);
        await expect(cacheManager.set('bad', 'value', ttl as number)).rejects.toThrow(/0 for no expiry/);
      }
      expect(await cacheManager.get('bad')).toBeUndefined();
    });

    it('mset and mget: per-entry ttl, undefined for a miss, answers the list with the ttl applied', async () => {
      const list = [
        { key: 'key-1', value: 'value 1' },
        { key: 'key-2', value: 'value 2', ttl: 5000 },
        { key: 'key-4', value: 'value 4', ttl: 0 },
      ];
      expect(await cacheManager.mset(list)).toEqual([
        { key: 'key-1', value: 'value 1', ttl: TEN_SECONDS },
        { key: 'key-2', value: 'value 2', ttl: 5000 },
        { key: 'key-4', value: 'value 4', ttl: 0 },
      ]);
      expect(await cacheManager.mget(['key-1', 'key-2', 'key-3'])).toEqual(['value 1', 'value 2', undefined]);
      expectAbout(await cache.getExpire('key-1'), TEN_SECONDS);
      expectAbout(await cache.getExpire('key-2'), 5000);
      expect(await cache.getExpire('key-4')).toBe(-1);
    });

    it('ttl: the expiry time in epoch ms; undefined without expiry or for a miss', async () => {
      const before = Date.now();
      await cacheManager.set('key', 'value', 1000); // expires after 1 second
      const expiration = await cacheManager.ttl('key');
      const after = Date.now();
      expect(expiration).toBeGreaterThanOrEqual(before + 1000 - 100);
      expect(expiration).toBeLessThanOrEqual(after + 1000);
      await cacheManager.set('forever', 'value', 0);
      expect(await cacheManager.ttl('forever')).toBeUndefined();
      expect(await cacheManager.ttl('foo')).toBeUndefined();
    });

    it('del, mdel and clear answer true and remove the keys', async () => {
      await cacheManager.set('key', 'value');
      expect(await cacheManager.get('key')).toBe('value');
      expect(await cacheManager.del('key')).toBe(true);
      expect(await cacheManager.get('key')).toBeUndefined();
      expect(await cacheManager.del('never-set')).toBe(true);

      await cacheManager.mset([
        { key: 'key-1', value: 'value 1' },
        { key: 'key-2', value: 'value 2' },
      ]);
      expect(await cacheManager.mdel(['key-1', 'key-2'])).toBe(true);
      expect(await cacheManager.mget(['key-1', 'key-2'])).toEqual([undefined, undefined]);

      await cacheManager.set('key-1', 'value 1');
      await cacheManager.set('key-2', 'value 2');
      expect(await cacheManager.get('key-1')).toBe('value 1');
      expect(await cacheManager.get('key-2')).toBe('value 2');
      expect(await cacheManager.clear()).toBe(true);
      expect(await cacheManager.get('key-1')).toBeUndefined();
      expect(await cacheManager.get('key-2')).toBeUndefined();
    });

    it('wrap: calls the function once, then answers from cache; ttl in ms, as a number, function or option', async () => {
      let calls = 0;
      const getValue = () => {
        calls++;
        return 'value';
      };
      await cacheManager.wrap('basic', getValue);
      await cacheManager.wrap('basic', getValue);
      expect(calls).toBe(1);
      expectAbout(await cache.getExpire('basic'), TEN_SECONDS);

      expect(await cacheManager.wrap('key', () => 1, 5000, 3000)).toBe(1);
      expect(await cacheManager.wrap('key', () => 2, 5000, 3000)).toBe(1);
      expectAbout(await cache.getExpire('key'), 5000);

      const ttlOf: number[] = [];
      await cacheManager.wrap(
        'by-function',
        async () => 7,
        (value) => {
          ttlOf.push(value);
          return 6000;
        },
      );
      expect(ttlOf).toEqual([7]);
      expectAbout(await cache.getExpire('by-function'), 6000);

      await cacheManager.wrap('by-option', async () => 8, { ttl: 7000 });
      expectAbout(await cache.getExpire('by-option'), 7000);
    });

    it('wrap: concurrent misses share one call of the function', async () => {
      let calls = 0;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const getValue = async () => {
        calls++;
        await gate;
        return 'value';
      };
      const results = Promise.all(Array.from({ length: 10 }, () => cacheManager.wrap('flight', getValue, 5000)));
      // Released once the shared call has started: all ten joined it when they were made.
      expect(await pollUntil(async () => calls === 1, 5_000, 1)).toBe(true);
      release();
      expect(await results).toEqual(Array(10).fill('value'));
      expect(calls).toBe(1);
    });

    it('wrap with { raw: true } answers the value and its expiry', async () => {
      const before = Date.now();
      expect(await cacheManager.wrap('raw', () => 'v', 5000)).toBe('v');
      const stored = await cacheManager.wrap('raw', () => 'other', { ttl: 5000, raw: true });
      expect(stored.value).toBe('v');
      expect(stored.expires).toBeGreaterThanOrEqual(before + 5000 - 100);
      expect(stored.expires).toBeLessThanOrEqual(Date.now() + 5000);
      const fresh = await cacheManager.wrap('raw-new', () => 'n', { ttl: 5000, raw: true });
      expect(fresh).toEqual({ value: 'n', expires: expect.any(Number) });
    });

    it('wrap: a function that throws rejects, and nothing is stored', async () => {
      await expect(
        cacheManager.wrap('error', () => {
          throw new Error('failed');
        }),
      ).rejects.toThrow('failed');
      expect(await cacheManager.get('error')).toBeUndefined();
    });

    it('wrap with refreshThreshold: serves the value about to expire and recomputes it in the background', async () => {
      expect(await cacheManager.wrap('refresh', () => 1, 60_000, 30_000)).toBe(1);
      // Plenty of time left: no refresh.
      expect(await cacheManager.wrap('refresh', () => 2, 60_000, 30_000)).toBe(1);
      // Less than the threshold left (set by hand instead of waiting): served, then refreshed in the background.
      await cache.expire('refresh', 10_000);
      expect(await cacheManager.wrap('refresh', () => 2, 60_000, 30_000)).toBe(1);
      await backgroundSettled();
      expect(await cacheManager.wrap('refresh', () => 3, 60_000, 30_000)).toBe(2);
      expectAbout(await cache.getExpire('refresh'), 60_000);
      // A key without expiry is never refreshed.
      await cacheManager.set('no-expiry', 'kept', 0);
      expect(await cacheManager.wrap('no-expiry', () => 'new', 60_000, 30_000)).toBe('kept');
      await backgroundSettled(); // a refresh, had one started, would be done
      expect(await cacheManager.get('no-expiry')).toBe('kept');
    });
  });
}

describe('cache-manager compatible provider is opt-in', () => {
  it('is not registered without cacheManagerCompat', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [CashewsModule.forRoot('mem://')] }).compile();
    await moduleRef.init();
    try {
      expect(() => moduleRef.get(CACHE_MANAGER, { strict: false })).toThrow();
      expect(moduleRef.get(CacheService, { strict: false })).toBeInstanceOf(CacheService);
    } finally {
      await (moduleRef as INestApplicationContext).close();
    }
  });

  it('is registered by forRootAsync too', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        CashewsModule.forRootAsync({ cacheManagerCompat: true, useFactory: () => ({ url: 'mem://', ttl: '1m' }) }),
      ],
    }).compile();
    await moduleRef.init();
    try {
      const manager = moduleRef.get<CacheManager>(CACHE_MANAGER, { strict: false });
      await manager.set('k', 'v');
      expectAbout(await manager.cache.getExpire('k'), 60_000);
    } finally {
      await moduleRef.close();
    }
  });
});
