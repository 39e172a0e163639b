/**
 * Providers of a module loaded after start-up with `LazyModuleLoader` (Nest runs no lifecycle hooks there) are
 * decorated at their first decorated call, by the application holding them, on its own cache instance: @Cache caches
 * (mem:// and Redis), @RateLimit limits, a transient provider's injected instance is decorated, and nothing is logged.
 * Instances no application holds (`new`) still warn once; request-scoped providers keep their warning; decorators
 * that cannot apply fail the call; a call from the constructor runs undecorated, said once; a `forRoot` that would
 * create an instance in the lazy module is refused when it loads.
 */
import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Module,
  Scope,
  type INestApplicationContext,
  type ModuleMetadata,
  type Type,
} from '@nestjs/common';
import { LazyModuleLoader, type ModuleRef } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { Cache, CacheService, CashewsConfigError, CashewsModule, RateLimit, RateLimitError } from '../lib/index.js';
import { describeRedis, rawRedis, redisUrl } from './support/redis.js';
import { logged } from './support/logged.js';

// One describe around the file: its hooks stay its own inside a group file (see jest.config.js).
describe('lazily loaded modules', () => {
  /** Keys of this run: the Redis cases share the worker's database (or a developer's 127.0.0.1:6379). */
  const run = `lazy-${randomUUID().slice(0, 8)}`;

  const open: INestApplicationContext[] = [];
  afterEach(async () => {
    while (open.length) await open.pop()!.close();
  });

  async function boot(url: string, metadata: ModuleMetadata = {}): Promise<INestApplicationContext> {
    const moduleRef = await Test.createTestingModule({
      ...metadata,
      imports: [CashewsModule.forRoot(url), ...(metadata.imports ?? [])],
    }).compile();
    open.push(moduleRef);
    await moduleRef.init();
    return moduleRef;
  }

  function load(app: INestApplicationContext, module: Type<unknown>): Promise<ModuleRef> {
    return app.get(LazyModuleLoader).load(() => module);
  }

  /** Deletes what this run stored in the Redis at `url`. */
  async function clearRun(url: string): Promise<void> {
    const client = rawRedis(url);
    try {
      const keys = await client.keys(`*${run}*`);
      if (keys.length) await client.del(...keys);
    } finally {
      client.disconnect();
    }
  }

  // Each scenario has its own classes: a guard warns once per method and process.

  it('a @Cache provider method caches (mem://): the second call does not run it, and nothing is logged', async () => {
    @Injectable()
    class LazyPrices {
      runs = 0;
      @Cache({ ttl: '1m', key: 'prices:{id}' })
      async price(id: number): Promise<number> {
        this.runs++;
        return id * 10;
      }
    }
    @Module({ providers: [LazyPrices] })
    class PricesModule {}

    const app = await boot('mem://');
    const lines = await logged(async () => {
      const prices = (await load(app, PricesModule)).get(LazyPrices);
      expect(await prices.price(1)).toBe(10);
      expect(await prices.price(1)).toBe(10);
      expect(await prices.price(2)).toBe(20);
      expect(prices.runs).toBe(2);
      // Stored on the application's instance, as a provider loaded at start-up would be.
      expect(await app.get(CacheService).get('prices:1')).toBe(10);
    });
    expect(lines).toEqual([]);
  });

  describeRedis('on Redis', () => {
    const url = redisUrl()!;
    afterEach(() => clearRun(url));

    it('a @Cache provider method caches in Redis: the second call does not run it, and nothing is logged', async () => {
      @Injectable()
      class LazyRedisPrices {
        runs = 0;
        @Cache({ ttl: '1m', key: `${run}:prices:{id}` })
        async price(id: number): Promise<number> {
          this.runs++;
          return id * 10;
        }
      }
      @Module({ providers: [LazyRedisPrices] })
      class RedisPricesModule {}

      const app = await boot(url);
      const lines = await logged(async () => {
        const prices = (await load(app, RedisPricesModule)).get(LazyRedisPrices);
        expect(await prices.price(1)).toBe(10);
        expect(await prices.price(1)).toBe(10);
        expect(prices.runs).toBe(1);
      });
      expect(lines).toEqual([]);
      const client = rawRedis(url);
      try {
        expect(await client.keys(`*${run}:prices:1*`)).toHaveLength(1);
      } finally {
        client.disconnect();
      }
    });

    it('two applications each decorate their own lazy instances, on their own instance (mem:// and Redis)', async () => {
      @Injectable()
      class SharedCatalog {
        runs = 0;
        @Cache({ ttl: '1m', key: `${run}:catalog:{id}` })
        async item(id: number): Promise<string> {
          this.runs++;
          return `item ${id}`;
        }
      }
      @Module({ providers: [SharedCatalog] })
      class CatalogModule {}

      const memory = await boot('mem://');
      const redis = await boot(url);
      const client = rawRedis(url);
      try {
        const lines = await logged(async () => {
          const inMemory = (await load(memory, CatalogModule)).get(SharedCatalog);
          const inRedis = (await load(redis, CatalogModule)).get(SharedCatalog);
          expect(inMemory).not.toBe(inRedis);

          await inMemory.item(1);
          await inMemory.item(1);
          expect(inMemory.runs).toBe(1);
          // The memory application's entry is not in Redis, and the Redis application does not see it.
          expect(await client.keys(`*${run}:catalog:*`)).toEqual([]);
          await inRedis.item(1);
          await inRedis.item(1);
          expect(inRedis.runs).toBe(1);
          expect(await client.keys(`*${run}:catalog:1*`)).toHaveLength(1);

          // Dropping the memory entry makes only the memory application's instance run again.
          await memory.get(CacheService).delete(`${run}:catalog:1`);
          await inMemory.item(1);
          await inRedis.item(1);
          expect(inMemory.runs).toBe(2);
          expect(inRedis.runs).toBe(1);
        });
        expect(lines).toEqual([]);
      } finally {
        client.disconnect();
      }
    });
  });

  it('a @RateLimit provider method is enforced, and nothing is logged', async () => {
    @Injectable()
    class LazyMailer {
      runs = 0;
      @RateLimit({ limit: 2, period: '1m', key: `${run}:mail` })
      async send(): Promise<string> {
        this.runs++;
        return 'sent';
      }
    }
    @Module({ providers: [LazyMailer] })
    class MailerModule {}

    const app = await boot('mem://');
    const lines = await logged(async () => {
      const mailer = (await load(app, MailerModule)).get(LazyMailer);
      expect(await mailer.send()).toBe('sent');
      expect(await mailer.send()).toBe('sent');
      await expect(mailer.send()).rejects.toBeInstanceOf(RateLimitError);
      expect(mailer.runs).toBe(2);
    });
    expect(lines).toEqual([]);
  });

  it('a transient provider is decorated in the instance injected into its consumer', async () => {
    let runs = 0;
    @Injectable({ scope: Scope.TRANSIENT })
    class LazyRates {
      @Cache({ ttl: '1m', key: 'rates:{id}' })
      async rate(id: number): Promise<number> {
        runs++;
        return id;
      }
    }
    @Injectable()
    class LazyQuote {
      constructor(@Inject(LazyRates) readonly rates: LazyRates) {}
    }
    @Module({ providers: [LazyRates, LazyQuote] })
    class QuoteModule {}

    const app = await boot('mem://');
    const lines = await logged(async () => {
      const quote = (await load(app, QuoteModule)).get(LazyQuote);
      await quote.rates.rate(1);
      await quote.rates.rate(1);
    });
    expect(runs).toBe(1);
    expect(lines).toEqual([]);
  });

  it('an instance created with `new` warns once, naming the fix; the instance Nest holds is still decorated', async () => {
    @Injectable()
    class LazyStock {
      runs = 0;
      @Cache({ ttl: '1m', key: 'stock:{id}' })
      async count(id: number): Promise<number> {
        this.runs++;
        return id;
      }
    }
    @Module({ providers: [LazyStock] })
    class StockModule {}

    const app = await boot('mem://');
    const held = (await load(app, StockModule)).get(LazyStock);
    const lines = await logged(async () => {
      const manual = new LazyStock();
      await manual.count(1);
      await manual.count(1);
      expect(manual.runs).toBe(2);
      // Called after the warning: decorated all the same.
      await held.count(1);
      await held.count(1);
      expect(held.runs).toBe(1);
      await new LazyStock().count(1); // another such instance: said already
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/LazyStock\.count was called without its decorators \(@Cache\)/);
    expect(lines[0]).toMatch(/held by no application.*register the class as a provider/);
  });

  it('a request-scoped provider keeps its warning: its decorators are not applied, move the method', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class LazyPerRequest {
      @RateLimit({ limit: 1, period: '1m', key: `${run}:per-request` })
      async hit(): Promise<string> {
        return 'ok';
      }
    }
    @Module({ providers: [LazyPerRequest] })
    class PerRequestModule {}

    const app = await boot('mem://');
    const lazy = await load(app, PerRequestModule);
    const lines = await logged(async () => {
      const first = await lazy.resolve(LazyPerRequest);
      await first.hit();
      await first.hit(); // over the limit if it were applied: it is not, and that was said
      await (await lazy.resolve(LazyPerRequest)).hit();
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/LazyPerRequest\.hit/);
    expect(lines[0]).toMatch(/request-scoped provider.*singleton provider/);
  });

  it('decorators that cannot apply fail the call with the reason, as they fail start-up', async () => {
    @Injectable()
    class LazyCalculator {
      @Cache({ ttl: '1m', key: 'sum:{a}:{b}' })
      sum(a: number, b: number): number {
        return a + b;
      }
    }
    @Module({ providers: [LazyCalculator] })
    class CalculatorModule {}

    const app = await boot('mem://');
    const calculator = (await load(app, CalculatorModule)).get(LazyCalculator);
    for (let attempt = 0; attempt < 2; attempt++) {
      expect(() => calculator.sum(1, 2)).toThrow(CashewsConfigError);
      expect(() => calculator.sum(1, 2)).toThrow(/LazyCalculator\.sum is synchronous/);
    }
  });

  it('a call from the constructor runs undecorated and says so; later calls are decorated', async () => {
    @Injectable()
    class LazyWarmup {
      runs = 0;
      readonly warmed: Promise<number>;
      constructor() {
        this.warmed = this.load(1);
      }
      @Cache({ ttl: '1m', key: 'warmup:{id}' })
      async load(id: number): Promise<number> {
        this.runs++;
        return id;
      }
    }
    @Module({ providers: [LazyWarmup] })
    class WarmupModule {}

    const app = await boot('mem://');
    let warmup: LazyWarmup | undefined;
    const lines = await logged(async () => {
      const instance = (await load(app, WarmupModule)).get(LazyWarmup);
      warmup = instance;
      await instance.warmed;
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/LazyWarmup\.load .*from its constructor/);
    const later = await logged(async () => {
      await warmup!.load(2);
      await warmup!.load(2);
    });
    expect(warmup!.runs).toBe(2); // the constructor's call, then one for id 2
    expect(later).toEqual([]);
  });

  describe('CashewsModule imported by the lazily loaded module', () => {
    it("a shared module exporting the application's instance (isGlobal: false): decorated on that instance", async () => {
      const cashews = CashewsModule.forRoot('mem://', { isGlobal: false });
      @Module({ imports: [cashews], exports: [cashews] })
      class SharedCacheModule {}
      @Injectable()
      class LazyShared {
        runs = 0;
        constructor(@Inject(CacheService) readonly cache: CacheService) {}
        @Cache({ ttl: '1m', key: 'shared:{id}' })
        async find(id: number): Promise<number> {
          this.runs++;
          return id;
        }
      }
      @Module({ imports: [SharedCacheModule], providers: [LazyShared] })
      class SharedUserModule {}

      const app = await Test.createTestingModule({ imports: [SharedCacheModule] }).compile();
      open.push(app);
      await app.init();
      const lines = await logged(async () => {
        const service = (await load(app, SharedUserModule)).get(LazyShared);
        await service.find(1);
        await service.find(1);
        expect(service.runs).toBe(1);
        expect(await service.cache.get('shared:1')).toBe(1);
      });
      expect(lines).toEqual([]);
    });

    it('a forRoot of its own (an instance created after start-up) is refused when the module loads', async () => {
      @Module({ imports: [CashewsModule.forRoot('mem://')] })
      class OwnDefaultModule {}
      const app = await boot('mem://');
      await expect(load(app, OwnDefaultModule)).rejects.toThrow(
        /CashewsModule\.forRoot\(url\) is imported by a module loaded with LazyModuleLoader/,
      );
    });

    it('a named forRoot of its own is refused too, with the fix', async () => {
      @Injectable()
      class LazyOwnCache {
        @Cache({ ttl: '1m', key: 'own:{id}', cache: 'lazy-own' })
        async find(id: number): Promise<number> {
          return id;
        }
      }
      @Module({ imports: [CashewsModule.forRoot('mem://', { name: 'lazy-own' })], providers: [LazyOwnCache] })
      class OwnCacheModule {}

      const app = await boot('mem://');
      const error = await load(app, OwnCacheModule).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(CashewsConfigError);
      expect(String(error)).toMatch(
        /forRoot\(url, \{ name: 'lazy-own' \}\) is imported by a module loaded with LazyModuleLoader/,
      );
      expect(String(error)).toMatch(/Import it in a module loaded at start-up/);
    });
  });
});
