/**
 * The instance's default TTL (`forRoot(url, { ttl })`, `createCache(url, { ttl })`, `?ttl=`): used by `set`,
 * `setMany` and `getOrSet` without a ttl and by decorators without one, per instance; `'never'` as the explicit
 * "no expiry"; a decorator without ttl on an instance without default refused at bootstrap.
 * Redis isolation: this file uses database 11 of the discovered Redis (flushed after the file). db 0 is never touched.
 */
import { Controller, Get, Injectable, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  Cache,
  CacheService,
  CashewsConfigError,
  CashewsModule,
  createCache,
  Early,
  Failover,
  HitCache,
  InjectCache,
  resolveCacheConfig,
  Soft,
} from '../../lib/index.js';
import { describeRedis, flushRedisDb, redisUrl } from '../support/redis.js';

const DB = 11;
const FIVE_MIN = 5 * 60_000;
const HOUR = 60 * 60_000;

function must(url: string | undefined): string {
  if (!url) throw new Error('Redis URL missing although the suite is not skipped');
  return url;
}

/** The TTL left is the full TTL, less what the test itself took (far less than a second). */
function expectAbout(left: number, ttl: number): void {
  expect(left).toBeLessThanOrEqual(ttl);
  expect(left).toBeGreaterThan(ttl - 5_000);
}

/** Resolves to the error `promise` rejected with; fails the test if it resolved. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    const value = await promise;
    if (value && typeof (value as INestApplicationContext).close === 'function') {
      await (value as INestApplicationContext).close();
    }
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

@Injectable()
class Prices {
  calls = 0;

  @Cache({ key: 'dt:price:{id}' })
  async price(id: string): Promise<string> {
    this.calls++;
    return `price ${id}`;
  }

  @Cache({ key: 'dt:explicit:{id}', ttl: '30s' })
  async explicit(id: string): Promise<string> {
    return `explicit ${id}`;
  }

  @Cache({ key: 'dt:named:{id}', cache: 'other' })
  async named(id: string): Promise<string> {
    return `named ${id}`;
  }

  @Early({ key: 'dt:early' })
  async early(): Promise<number> {
    return 1;
  }

  @Soft({ key: 'dt:soft' })
  async soft(): Promise<number> {
    return 2;
  }

  @Failover({ key: 'dt:failover' })
  async failover(): Promise<number> {
    return 3;
  }

  @HitCache({ key: 'dt:hit', cacheHits: 5 })
  async hit(): Promise<number> {
    return 4;
  }
}

@Injectable()
class NoTtl {
  @Cache({ key: 'dt:none' })
  async value(): Promise<number> {
    return 1;
  }
}

@Controller('no-ttl')
class NoTtlController {
  @Get()
  @Cache({ key: 'dt:route' })
  list(): string[] {
    return [];
  }
}

@Injectable()
class LongEarly {
  @Early({ key: 'dt:long-early', earlyTtl: '10m' })
  async value(): Promise<number> {
    return 1;
  }
}

@Injectable()
class Probe {
  constructor(
    readonly cache: CacheService,
    @InjectCache('other') readonly other: CacheService,
  ) {}
}

const BACKENDS: Array<[string, boolean, () => string]> = [
  ['mem://', false, () => 'mem://'],
  ['redis', true, () => must(redisUrl(DB))],
];

for (const [name, needsRedis, url] of BACKENDS) {
  (needsRedis ? describeRedis : describe)(`default TTL on ${name}`, () => {
    const open: Array<{ close(): Promise<void> }> = [];
    afterEach(async () => {
      while (open.length) await open.pop()!.close();
    });
    afterAll(async () => {
      if (needsRedis) await flushRedisDb(DB);
    });

    async function cacheWith(options: { ttl?: string | number } = {}, query = ''): Promise<CacheService> {
      const cache = await createCache(`${url()}${query}`, options);
      open.push({ close: () => cache.onApplicationShutdown() });
      await cache.clear();
      return cache;
    }

    it('set, setMany and getOrSet without a ttl use the default; an explicit ttl wins', async () => {
      const cache = await cacheWith({ ttl: '5m' });
      expect(cache.defaultTtl).toBe(FIVE_MIN);
      await cache.set('dt:a', 1);
      expectAbout(await cache.getExpire('dt:a'), FIVE_MIN);
      await cache.setMany({ 'dt:b': 1, 'dt:c': 2 });
      expectAbout(await cache.getExpire('dt:b'), FIVE_MIN);
      expectAbout(await cache.getExpire('dt:c'), FIVE_MIN);
      expect(await cache.getOrSet('dt:d', () => 4)).toBe(4);
      expectAbout(await cache.getExpire('dt:d'), FIVE_MIN);
      await cache.set('dt:e', 1, { ttl: '1h' });
      expectAbout(await cache.getExpire('dt:e'), HOUR);
    });

    it("ttl: 'never' stores without expiry despite the default, and replaces a previous TTL", async () => {
      const cache = await cacheWith({ ttl: '5m' });
      await cache.set('dt:forever', 1);
      expectAbout(await cache.getExpire('dt:forever'), FIVE_MIN);
      await cache.set('dt:forever', 2, { ttl: 'never' });
      expect(await cache.getExpire('dt:forever')).toBe(-1);
      await cache.setMany([['dt:forever2', 1]], { ttl: 'never' });
      expect(await cache.getExpire('dt:forever2')).toBe(-1);
      await cache.getOrSet('dt:forever3', 1, { ttl: 'never' });
      expect(await cache.getExpire('dt:forever3')).toBe(-1);
    });

    it('without a default, set without ttl never expires (as before)', async () => {
      const cache = await cacheWith();
      expect(cache.defaultTtl).toBeUndefined();
      await cache.set('dt:plain', 1);
      expect(await cache.getExpire('dt:plain')).toBe(-1);
    });

    it('?ttl=5m in the URL sets the default; the options object overrides it', async () => {
      const fromUrl = await cacheWith({}, '?ttl=5m');
      await fromUrl.set('dt:url', 1);
      expectAbout(await fromUrl.getExpire('dt:url'), FIVE_MIN);
      const overridden = await cacheWith({ ttl: '1h' }, '?ttl=5m');
      expect(overridden.defaultTtl).toBe(HOUR);
    });

    it("refuses 0 and Infinity as a per-call ttl, naming 'never'", async () => {
      const cache = await cacheWith({ ttl: '5m' });
      for (const ttl of [0, Infinity, '0s']) {
        const error = await rejection(cache.set('dt:bad', 1, { ttl }));
        expect(error).toBeInstanceOf(CashewsConfigError);
        expect(error.message).toContain("{ ttl: 'never' }");
        expect(error.message).toContain('300000 ms');
      }
      expect(await cache.exists('dt:bad')).toBe(false);
    });

    describe('decorators without ttl, in a Nest application', () => {
      async function app(
        defaults: { ttl?: string; otherTtl?: string },
        providers: Array<new (...args: never[]) => unknown> = [Prices, Probe],
        controllers: Array<new (...args: never[]) => unknown> = [],
      ) {
        const imports: DynamicModule[] = [
          CashewsModule.forRoot(url(), defaults.ttl ? { ttl: defaults.ttl } : {}),
          CashewsModule.forRoot(url(), { name: 'other', ...(defaults.otherTtl ? { ttl: defaults.otherTtl } : {}) }),
        ];
        const moduleRef = await Test.createTestingModule({ imports, providers, controllers }).compile();
        open.push(moduleRef);
        await moduleRef.init();
        return moduleRef;
      }

      it('use the default TTL of the instance they name', async () => {
        const moduleRef = await app({ ttl: '5m', otherTtl: '1h' });
        const { cache } = moduleRef.get(Probe);
        await cache.clear();
        const prices = moduleRef.get(Prices);
        expect(await prices.price('x')).toBe('price x');
        expect(await prices.price('x')).toBe('price x');
        expect(prices.calls).toBe(1);
        expectAbout(await cache.getExpire('dt:price:x'), FIVE_MIN);
        await prices.explicit('x');
        expectAbout(await cache.getExpire('dt:explicit:x'), 30_000);
        await prices.named('x');
        expectAbout(await moduleRef.get(Probe).other.getExpire('dt:named:x'), HOUR);
      });

      it('@Early, @Soft, @Failover and @HitCache take it too', async () => {
        const moduleRef = await app({ ttl: '5m', otherTtl: '1h' });
        const { cache } = moduleRef.get(Probe);
        await cache.clear();
        const prices = moduleRef.get(Prices);
        expect(await prices.early()).toBe(1);
        expect(await prices.soft()).toBe(2);
        expect(await prices.failover()).toBe(3);
        expect(await prices.hit()).toBe(4);
        for (const key of ['dt:early', 'dt:soft', 'dt:failover', 'dt:hit']) {
          expectAbout(await cache.getExpire(key), FIVE_MIN);
        }
        // The refresh age defaults to a third of the default TTL, as it would of an explicit one.
        const stored = (await cache.get('dt:early')) as { at: number };
        expect(stored.at - Date.now()).toBeGreaterThan(FIVE_MIN / 3 - 5_000);
        expect(stored.at - Date.now()).toBeLessThanOrEqual(FIVE_MIN / 3);
      });

      it('one class in two applications runs with each instance default', async () => {
        const short = await app({ ttl: '5m', otherTtl: '1h' });
        const long = await app({ ttl: '1h', otherTtl: '1h' });
        // Both applications share the backend on Redis: one key each.
        await short.get(Probe).cache.clear();
        await short.get(Prices).price('short');
        await long.get(Prices).price('long');
        expectAbout(await short.get(Probe).cache.getExpire('dt:price:short'), FIVE_MIN);
        expectAbout(await long.get(Probe).cache.getExpire('dt:price:long'), HOUR);
      });

      it('without ttl and without a default, bootstrap fails naming Class.method and both fixes', async () => {
        const error = await rejection(app({}, [NoTtl]));
        expect(error).toBeInstanceOf(CashewsConfigError);
        expect(error.message).toContain('@Cache on NoTtl.value gives no ttl');
        expect(error.message).toContain("@Cache({ ttl: '5m' })");
        expect(error.message).toContain("CashewsModule.forRoot(url, { ttl: '5m' })");
        expect(error.message).toContain('?ttl=5m');
      });

      it('a controller handler without ttl is refused at bootstrap too', async () => {
        const error = await rejection(app({}, [], [NoTtlController]));
        expect(error).toBeInstanceOf(CashewsConfigError);
        expect(error.message).toContain('@Cache on NoTtlController.list gives no ttl');
      });

      it('a named instance without a default is named in the error', async () => {
        const error = await rejection(app({ ttl: '5m' }, [Prices]));
        expect(error).toBeInstanceOf(CashewsConfigError);
        expect(error.message).toContain('@Cache on Prices.named gives no ttl, and cache instance "other"');
        expect(error.message).toContain("CashewsModule.forRoot(url, { name: 'other', ttl: '5m' })");
      });

      it('an earlyTtl not shorter than the default fails at bootstrap with the default named', async () => {
        const error = await rejection(app({ ttl: '5m' }, [LongEarly]));
        expect(error).toBeInstanceOf(CashewsConfigError);
        expect(error.message).toContain("@Early on LongEarly.value, with the instance's default TTL of 300000 ms");
        expect(error.message).toContain('earlyTtl (600000 ms) must be shorter than ttl (300000 ms)');
      });
    });
  });
}

describe('default TTL configuration', () => {
  it('accepts a duration in the URL and the options, in milliseconds', () => {
    expect(resolveCacheConfig('mem://?ttl=5m').ttl).toBe(FIVE_MIN);
    expect(resolveCacheConfig('redis://127.0.0.1:6379/0?ttl=1h30m').ttl).toBe(HOUR * 1.5);
    expect(resolveCacheConfig('mem://', { ttl: 1500 }).ttl).toBe(1500);
    expect(resolveCacheConfig('mem://').ttl).toBeUndefined();
  });

  it('refuses zero, a bare number and a negative, saying how to have no default', () => {
    for (const [url, options] of [
      ['mem://?ttl=0', {}],
      ['mem://?ttl=300', {}],
      ['mem://', { ttl: 0 }],
      ['mem://', { ttl: -1 }],
      ['mem://', { ttl: 'never' }],
    ] as const) {
      expect(() => resolveCacheConfig(url, options as never)).toThrow(CashewsConfigError);
      expect(() => resolveCacheConfig(url, options as never)).toThrow(
        /"ttl".*greater than zero \(omit it for no default\)/,
      );
    }
  });

  it('refuses ttl in the URL of a routed prefix: the default belongs to the instance', () => {
    expect(() => resolveCacheConfig('mem://', { prefixes: { 'tmp:': 'mem://?ttl=5m' } })).toThrow(
      /"ttl" in the URL of prefix "tmp:" applies to the whole instance/,
    );
  });

  it('refuses a decorator option that is wrong whatever the default, at decoration time', () => {
    expect(() => Early({ earlyTtl: 0 })).toThrow(CashewsConfigError);
    expect(() => Cache({ lockTtl: 'soon' })).toThrow(/lockTtl/);
    expect(() => Cache({ timeCondition: -1 })).toThrow(/timeCondition/);
  });
});
