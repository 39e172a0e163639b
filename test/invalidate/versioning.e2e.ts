/**
 * Auto-invalidation on code change, simulated with two versions of the same code on one Redis (db 4):
 * default keys carry a fingerprint of the method source, and stored class instances a fingerprint of their
 * class, so values written by the old code read as misses; `version` overrides; only registered classes
 * come back as instances.
 */
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  Cache,
  CacheableClass,
  CacheService,
  CashewsConfigError,
  CashewsModule,
  createCache,
  registerCacheableClass,
  unregisterCacheableClass,
  type CacheableClassType,
} from '../../lib/index.js';
import { describeRedis, flushRedisDb, rawRedis, redisUrl } from '../support/redis.js';

const DB = 4;

/** Two deployments of the same service: same class and method names, a changed method body. */
function serviceV1() {
  @Injectable()
  class PricesService {
    calls = 0;
    @Cache({ ttl: '1m' })
    async price(id: number) {
      this.calls++;
      return { id, cents: 100 };
    }
    @Cache({ ttl: '1m', version: 3 })
    async pinned(id: number) {
      this.calls++;
      return { id, v: 1 };
    }
  }
  return PricesService;
}

function serviceV2() {
  @Injectable()
  class PricesService {
    calls = 0;
    @Cache({ ttl: '1m' })
    async price(id: number) {
      this.calls++;
      return { id, cents: 100, currency: 'EUR' };
    }
    @Cache({ ttl: '1m', version: 3 })
    async pinned(id: number) {
      this.calls++;
      return { id, v: 2 };
    }
  }
  return PricesService;
}

type Prices = { calls: number; price(id: number): Promise<unknown>; pinned(id: number): Promise<unknown> };

async function start(service: new () => Prices, url: string, classes: CacheableClassType[] = []) {
  @Module({ imports: [CashewsModule.forRoot(url, { classes })], providers: [service] })
  class AppModule {}
  const app: INestApplicationContext = await NestFactory.createApplicationContext(AppModule, { logger: false });
  return { app, prices: app.get(service), cache: app.get(CacheService) };
}

describeRedis('versioned default keys across deployments', () => {
  const url = redisUrl(DB) as string;
  beforeAll(() => flushRedisDb(DB));
  afterAll(() => flushRedisDb(DB));

  it('a changed method reads as a miss, the same source hits, an explicit version is shared', async () => {
    const V1 = serviceV1();
    const V2 = serviceV2();
    const first = await start(V1, url);
    await first.prices.price(1);
    await first.prices.pinned(1);
    const keys = (await first.app.get(CacheService).getMatch('PricesService:*')[Symbol.asyncIterator]().next()).value;
    expect(keys).toBeDefined();
    await first.app.close();

    const redeployedSame = await start(serviceV1(), url);
    expect(await redeployedSame.prices.price(1)).toEqual({ id: 1, cents: 100 });
    expect(redeployedSame.prices.calls).toBe(0);
    await redeployedSame.app.close();

    const changed = await start(V2, url);
    expect(await changed.prices.price(1)).toEqual({ id: 1, cents: 100, currency: 'EUR' });
    expect(changed.prices.calls).toBe(1);
    // The explicit version overrides the fingerprint: v2 code still reads v1's entry.
    expect(await changed.prices.pinned(1)).toEqual({ id: 1, v: 1 });
    expect(changed.prices.calls).toBe(1);
    await changed.app.close();

    const raw = rawRedis(url);
    try {
      const stored = (await raw.keys('PricesService:*')).sort();
      expect(stored).toHaveLength(3);
      expect(stored).toContain('PricesService:pinned:v3:1');
      expect(stored.filter((key) => /^PricesService:price:v[0-9a-f]{8}:1$/.test(key))).toHaveLength(2);
    } finally {
      raw.disconnect();
    }
  });
});

describe('version option', () => {
  it('is validated and refused together with a key template', () => {
    const decorate = (decorator: MethodDecorator) => {
      class Host {
        async get(id: number) {
          return id;
        }
      }
      decorator(Host.prototype, 'get', Object.getOwnPropertyDescriptor(Host.prototype, 'get')!);
    };
    expect(() => decorate(Cache({ ttl: '1m', version: 'a:b' }))).toThrow(CashewsConfigError);
    expect(() => decorate(Cache({ ttl: '1m', version: 2, key: 'x:{id}' }))).toThrow(/key template/);
    expect(() => decorate(Cache({ ttl: '1m', version: 'v2.1' }))).not.toThrow();
  });
});

/** Two definitions of one registered class, as before and after a deploy. */
function moneyV1() {
  class Money {
    constructor(
      public amount: number,
      public currency: string,
    ) {}
    format() {
      return `${this.amount} ${this.currency}`;
    }
  }
  return Money;
}

function moneyV2() {
  class Money {
    constructor(
      public cents: number,
      public currency: string,
    ) {}
    format() {
      return `${this.cents / 100} ${this.currency}`;
    }
  }
  return Money;
}

describeRedis('class instances across deployments', () => {
  const url = redisUrl(DB) as string;
  let cache: CacheService;
  beforeAll(async () => {
    await flushRedisDb(DB);
    cache = await createCache(url);
  });
  afterAll(async () => {
    await cache.close();
    await flushRedisDb(DB);
  });

  it('comes back as an instance of a registered class, nested too, without calling the constructor', async () => {
    const Money = moneyV1();
    registerCacheableClass(Money);
    try {
      await cache.set('money', {
        total: new Money(5, 'EUR'),
        list: [new Money(1, 'USD')],
        map: new Map([['a', new Money(2, 'GBP')]]),
      });
      const read = (await cache.get('money')) as {
        total: InstanceType<typeof Money>;
        list: unknown[];
        map: Map<string, unknown>;
      };
      expect(read.total).toBeInstanceOf(Money);
      expect(read.total.format()).toBe('5 EUR');
      expect(read.list[0]).toBeInstanceOf(Money);
      expect(read.map.get('a')).toBeInstanceOf(Money);
    } finally {
      unregisterCacheableClass(Money);
    }
  });

  it('reads as a miss once the class definition changed, and as a plain object when not registered', async () => {
    const OldMoney = moneyV1();
    registerCacheableClass(OldMoney);
    await cache.set('price', new OldMoney(3, 'EUR'));
    unregisterCacheableClass(OldMoney);

    // Not registered in this "process": a plain object, never a class.
    const plain = await cache.get('price');
    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
    expect(plain).toEqual({ amount: 3, currency: 'EUR' });

    const NewMoney = moneyV2();
    registerCacheableClass(NewMoney);
    try {
      expect(await cache.get('price', 'miss')).toBe('miss');
      expect(await cache.exists('price')).toBe(true);
      // The same definition as the stored one reads fine again.
      const again = moneyV1();
      registerCacheableClass(again);
      expect(await cache.get('price')).toBeInstanceOf(again);
      unregisterCacheableClass(again);
    } finally {
      unregisterCacheableClass(NewMoney);
    }
  });

  it('never lets stored data name a class or reach a prototype', async () => {
    const raw = rawRedis(url);
    try {
      await raw.set(
        'forged',
        'c1:t' + JSON.stringify({ $: 'C', n: 'Object', f: 'x', v: { __proto__: { polluted: 1 }, a: 1 } }),
      );
      const value = (await cache.get('forged')) as Record<string, unknown>;
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      await raw.set('forged2', 'c1:t' + JSON.stringify({ $: 'C', n: 'Function', f: 'x', v: {} }));
      expect(typeof (await cache.get('forged2'))).toBe('object');
    } finally {
      raw.disconnect();
    }
  });

  it('registers through @CacheableClass and the module `classes` option', async () => {
    @CacheableClass({ name: 'test.Point' })
    class Point {
      x = 0;
      y = 0;
      norm() {
        return Math.hypot(this.x, this.y);
      }
    }
    try {
      const point = Object.assign(new Point(), { x: 3, y: 4 });
      await cache.set('point', point);
      expect(((await cache.get('point')) as Point).norm()).toBe(5);
    } finally {
      unregisterCacheableClass(Point);
    }

    class Box {
      w = 1;
    }
    const app = await start(serviceV1(), url, [Box]);
    try {
      await app.cache.set('box', new Box());
      expect(await app.cache.get('box')).toBeInstanceOf(Box);
    } finally {
      await app.app.close();
      unregisterCacheableClass(Box);
    }
  });

  it('stays an instance on mem:// (stored as a copy)', async () => {
    const Money = moneyV1();
    registerCacheableClass(Money);
    const mem = await createCache('mem://');
    try {
      const original = new Money(1, 'EUR');
      await mem.set('m', original);
      const read = await mem.get('m');
      expect(read).toBeInstanceOf(Money);
      expect(read).not.toBe(original);
    } finally {
      unregisterCacheableClass(Money);
      await mem.close();
    }
  });
});

/** `@CacheableClass` applied to two definitions of `Money`, as before and after a deploy or a hot reload. */
function decoratedMoney(version: 1 | 2) {
  if (version === 1) {
    @CacheableClass()
    class Money {
      constructor(
        public amount: number,
        public currency: string,
      ) {}
    }
    return Money;
  }
  @CacheableClass()
  class Money {
    constructor(
      public cents: number,
      public currency: string,
    ) {}
  }
  return Money;
}

const everyBackend: Array<[string, () => Promise<CacheService>]> = [
  ['mem://', () => createCache('mem://')],
  ['mem:// with secret', () => createCache('mem://', { secret: 's' })],
];
if (redisUrl(DB)) everyBackend.push([`redis db ${DB}`, () => createCache(redisUrl(DB) as string)]);

describe.each(everyBackend)('a @CacheableClass redefined after a value was stored, on %s', (_name, make) => {
  let cache: CacheService;
  beforeAll(async () => {
    cache = await make();
  });
  afterAll(async () => {
    await cache.clear();
    await cache.close();
  });

  it('reads as a miss, as a plain object once unregistered, and as the new class for the same source', async () => {
    const OldMoney = decoratedMoney(1);
    try {
      await cache.set('price', { total: new OldMoney(3, 'EUR') });
      expect(((await cache.get('price')) as { total: unknown }).total).toBeInstanceOf(OldMoney);

      const NewMoney = decoratedMoney(2); // takes the name "Money" over
      expect(await cache.get('price', 'miss')).toBe('miss');
      expect(await cache.getMany(['price'], 'miss')).toEqual(['miss']);
      expect(await cache.exists('price')).toBe(true);

      unregisterCacheableClass(NewMoney); // no class is registered as "Money" any more
      const plain = (await cache.get('price')) as { total: object };
      expect(Object.getPrototypeOf(plain.total)).toBe(Object.prototype);
      expect(plain).toEqual({ total: { amount: 3, currency: 'EUR' } });

      const SameSource = decoratedMoney(1);
      try {
        const again = (await cache.get('price')) as { total: unknown };
        expect(again.total).toBeInstanceOf(SameSource);
        expect(again.total).toEqual(new SameSource(3, 'EUR'));
      } finally {
        unregisterCacheableClass(SameSource);
      }
    } finally {
      unregisterCacheableClass(OldMoney);
    }
  });

  it('an instance of a class whose name another definition took over is never served as the old class', async () => {
    const OldMoney = decoratedMoney(1);
    const NewMoney = decoratedMoney(2);
    try {
      // OldMoney stays registered by type, but "Money" now names NewMoney: what was stored is outdated.
      await cache.set('stale', new OldMoney(1, 'EUR'));
      expect(await cache.get('stale', 'miss')).toBe('miss');
      await cache.set('fresh', new NewMoney(100, 'EUR'));
      expect(await cache.get('fresh')).toBeInstanceOf(NewMoney);
    } finally {
      unregisterCacheableClass(NewMoney);
      unregisterCacheableClass(OldMoney);
    }
  });
});
