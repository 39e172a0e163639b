/**
 * Providers of a module loaded after start-up with `LazyModuleLoader` (Nest runs no lifecycle hooks there) are
 * decorated before `load()` returns their `ModuleRef`, by the application whose loader loaded them, exactly as at
 * start-up: @Cache, @RateLimit and @Invalidate run on the application's instances (mem:// and Redis), transient and
 * request-scoped providers follow the start-up rules, and decorators that cannot apply fail the load. A call made
 * before `load()` returns (from the constructor) still warns once. A `forRoot` that would create an instance inside a
 * lazily loaded module is refused.
 */
import { randomUUID } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { jest } from '@jest/globals';
import {
  Inject,
  Injectable,
  Logger,
  Module,
  Scope,
  type INestApplicationContext,
  type ModuleMetadata,
  type Type,
} from '@nestjs/common';
import { LazyModuleLoader, NestFactory, type ModuleRef } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import {
  Cache,
  CacheService,
  CashewsConfigError,
  CashewsModule,
  Invalidate,
  RateLimit,
  RateLimitError,
} from '../lib/index.js';
import { CashewsExplorer } from '../lib/explorer/cashews.explorer.js';
import { describeRedis, rawRedis, redisUrl } from './support/redis.js';

// One describe around the file: its hooks stay its own inside a group file (see jest.config.js).
describe('lazily loaded modules', () => {
  /** Keys of this run: the Redis cases share the worker's database (or a developer's 127.0.0.1:6379). */
  const run = `lazy-${randomUUID().slice(0, 8)}`;

  /** Every warn/error line Nest's Logger printed while `work` ran. */
  async function logged(work: () => Promise<void>): Promise<string[]> {
    const lines: string[] = [];
    const capture = (message: unknown) => void lines.push(String(message));
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(capture);
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(capture);
    try {
      await work();
    } finally {
      warn.mockRestore();
      error.mockRestore();
    }
    return lines;
  }

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

  /** Whether `instance.name` is the decorated method the explorer installed (an own property), not the guard. */
  function decorated(instance: object, name: string): boolean {
    return Object.prototype.hasOwnProperty.call(instance, name);
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

  it('a provider injecting CacheService, with @Cache, @RateLimit and @Invalidate, works on the global instance', async () => {
    @Injectable()
    class LazyAccounts {
      reads = 0;
      sends = 0;
      constructor(@Inject(CacheService) readonly cache: CacheService) {}
      @Cache({ ttl: '1m', key: 'account:{id}' })
      async account(id: number): Promise<string> {
        this.reads++;
        return `account ${id} v${this.reads}`;
      }
      @Invalidate('account:{id}')
      async rename(id: number): Promise<number> {
        return id;
      }
      @RateLimit({ limit: 1, period: '1m', key: `${run}:notify:{id}` })
      async notify(id: number): Promise<number> {
        this.sends++;
        return id;
      }
    }
    @Module({ providers: [LazyAccounts] })
    class AccountsModule {}

    const app = await boot('mem://');
    const lines = await logged(async () => {
      const accounts = (await load(app, AccountsModule)).get(LazyAccounts);
      expect(accounts.cache).toBe(app.get(CacheService));
      expect(await accounts.account(1)).toBe('account 1 v1');
      expect(await accounts.account(1)).toBe('account 1 v1');
      expect(await accounts.cache.get('account:1')).toBe('account 1 v1');
      await accounts.rename(1);
      expect(await accounts.cache.get('account:1')).toBeUndefined();
      expect(await accounts.account(1)).toBe('account 1 v2');
      await accounts.notify(7);
      await expect(accounts.notify(7)).rejects.toBeInstanceOf(RateLimitError);
      expect(accounts.sends).toBe(1);
    });
    expect(lines).toEqual([]);
  });

  describeRedis('on Redis', () => {
    const url = redisUrl()!;
    afterEach(async () => {
      const client = rawRedis(url);
      try {
        const keys = await client.keys(`*${run}*`);
        if (keys.length) await client.del(...keys);
      } finally {
        client.disconnect();
      }
    });

    it('@Cache caches in Redis and @RateLimit counts there, and nothing is logged', async () => {
      @Injectable()
      class LazyRedisPrices {
        runs = 0;
        @Cache({ ttl: '1m', key: `${run}:prices:{id}` })
        async price(id: number): Promise<number> {
          this.runs++;
          return id * 10;
        }
        @RateLimit({ limit: 2, period: '1m', key: `${run}:mail` })
        async mail(): Promise<string> {
          return 'sent';
        }
      }
      @Module({ providers: [LazyRedisPrices] })
      class RedisPricesModule {}

      const app = await boot(url);
      const client = rawRedis(url);
      try {
        const lines = await logged(async () => {
          const prices = (await load(app, RedisPricesModule)).get(LazyRedisPrices);
          expect(await prices.price(1)).toBe(10);
          expect(await prices.price(1)).toBe(10);
          expect(prices.runs).toBe(1);
          expect(await client.keys(`*${run}:prices:1*`)).toHaveLength(1);
          await prices.mail();
          await prices.mail();
          await expect(prices.mail()).rejects.toBeInstanceOf(RateLimitError);
          expect((await client.keys(`*${run}:mail*`)).length).toBeGreaterThan(0);
        });
        expect(lines).toEqual([]);
      } finally {
        client.disconnect();
      }
    });

    it('two applications, each with its own loader, decorate their own lazy instances on their own instance', async () => {
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
      expect(memory.get(LazyModuleLoader)).not.toBe(redis.get(LazyModuleLoader));
      const client = rawRedis(url);
      try {
        const lines = await logged(async () => {
          const inMemory = (await load(memory, CatalogModule)).get(SharedCatalog);
          const inRedis = (await load(redis, CatalogModule)).get(SharedCatalog);
          expect(inMemory).not.toBe(inRedis);

          await inMemory.item(1);
          await inMemory.item(1);
          expect(inMemory.runs).toBe(1);
          // The memory application's entry is not in Redis.
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

  it('the loader a provider injects is the one decorated (one per application), in an app made by NestFactory', async () => {
    @Injectable()
    class LazyQuotes {
      runs = 0;
      @Cache({ ttl: '1m', key: 'quotes:{id}' })
      async quote(id: number): Promise<number> {
        this.runs++;
        return id;
      }
    }
    @Module({ providers: [LazyQuotes] })
    class QuotesModule {}
    @Injectable()
    class Feature {
      constructor(@Inject(LazyModuleLoader) readonly loader: LazyModuleLoader) {}
      async quotes(): Promise<LazyQuotes> {
        return (await this.loader.load(() => QuotesModule)).get(LazyQuotes);
      }
    }
    @Module({ imports: [CashewsModule.forRoot('mem://')], providers: [Feature] })
    class AppModule {}

    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    open.push(app);
    await app.init();
    expect(app.get(Feature).loader).toBe(app.get(LazyModuleLoader));
    const lines = await logged(async () => {
      const quotes = await app.get(Feature).quotes();
      await quotes.quote(1);
      await quotes.quote(1);
      expect(quotes.runs).toBe(1);
    });
    expect(lines).toEqual([]);
  });

  it('two concurrent loads of one module: both return once it is decorated, and it is decorated once', async () => {
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
    const applyTo = jest.spyOn(
      CashewsExplorer.prototype as unknown as { applyTo: (wrapper: unknown, instance: unknown) => void },
      'applyTo',
    );
    try {
      const loader = app.get(LazyModuleLoader);
      // Each caller checks at the moment its own promise settles.
      const seen = await Promise.all(
        [0, 1].map(() =>
          loader
            .load(() => StockModule)
            .then((ref) => {
              const stock = ref.get(LazyStock);
              return { stock, decorated: decorated(stock, 'count') };
            }),
        ),
      );
      expect(seen.map((one) => one.decorated)).toEqual([true, true]);
      expect(seen[0]!.stock).toBe(seen[1]!.stock);
      const stock = seen[0]!.stock;
      expect(applyTo.mock.calls.filter(([, instance]) => instance === stock)).toHaveLength(1);
      await stock.count(1);
      await stock.count(1);
      expect(stock.runs).toBe(1);
      // A later load of the loaded module returns it as it is.
      const method = stock.count;
      expect((await loader.load(() => StockModule)).get(LazyStock).count).toBe(method);
      expect(applyTo.mock.calls.filter(([, instance]) => instance === stock)).toHaveLength(1);
    } finally {
      applyTo.mockRestore();
    }
  });

  it('a lazy module importing a module loaded before: its own providers are decorated, the shared one untouched', async () => {
    @Injectable()
    class LazyRates {
      runs = 0;
      @Cache({ ttl: '1m', key: 'rates:{id}' })
      async rate(id: number): Promise<number> {
        this.runs++;
        return id;
      }
    }
    @Module({ providers: [LazyRates], exports: [LazyRates] })
    class RatesModule {}
    @Injectable()
    class LazyInvoices {
      runs = 0;
      constructor(@Inject(LazyRates) readonly rates: LazyRates) {}
      @Cache({ ttl: '1m', key: 'invoice:{id}' })
      async total(id: number): Promise<number> {
        this.runs++;
        return (await this.rates.rate(id)) * 2;
      }
    }
    @Module({ imports: [RatesModule], providers: [LazyInvoices] })
    class InvoicesModule {}

    const app = await boot('mem://');
    const lines = await logged(async () => {
      const rates = (await load(app, RatesModule)).get(LazyRates);
      const rate = rates.rate;
      expect(decorated(rates, 'rate')).toBe(true);
      const invoices = (await load(app, InvoicesModule)).get(LazyInvoices);
      expect(invoices.rates).toBe(rates);
      expect(rates.rate).toBe(rate);
      expect(await invoices.total(3)).toBe(6);
      expect(await invoices.total(3)).toBe(6);
      expect(await rates.rate(3)).toBe(3);
      expect(invoices.runs).toBe(1);
      expect(rates.runs).toBe(1);
    });
    expect(lines).toEqual([]);
  });

  it('a lazy module importing a module of the application (loaded at start-up) is decorated too', async () => {
    @Injectable()
    class StartupClock {
      now(): number {
        return 42;
      }
    }
    @Module({ providers: [StartupClock], exports: [StartupClock] })
    class ClockModule {}
    @Injectable()
    class LazyReport {
      runs = 0;
      constructor(@Inject(StartupClock) readonly clock: StartupClock) {}
      @Cache({ ttl: '1m', key: 'report' })
      async report(): Promise<number> {
        this.runs++;
        return this.clock.now();
      }
    }
    @Module({ imports: [ClockModule], providers: [LazyReport] })
    class ReportModule {}

    const app = await boot('mem://', { imports: [ClockModule] });
    const report = (await load(app, ReportModule)).get(LazyReport);
    expect(report.clock).toBe(app.get(StartupClock));
    await report.report();
    await report.report();
    expect(report.runs).toBe(1);
  });

  it('a transient provider is decorated in the instance injected into its lazy consumer', async () => {
    let runs = 0;
    @Injectable({ scope: Scope.TRANSIENT })
    class LazyTransientRates {
      @Cache({ ttl: '1m', key: 'transient-rates:{id}' })
      async rate(id: number): Promise<number> {
        runs++;
        return id;
      }
    }
    @Injectable()
    class LazyQuote {
      constructor(@Inject(LazyTransientRates) readonly rates: LazyTransientRates) {}
    }
    @Module({ providers: [LazyTransientRates, LazyQuote] })
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

  it('a transient provider of a start-up module is decorated in the instance a lazy consumer gets', async () => {
    let runs = 0;
    @Injectable({ scope: Scope.TRANSIENT })
    class StartupTransient {
      @Cache({ ttl: '1m', key: 'startup-transient:{id}' })
      async find(id: number): Promise<number> {
        runs++;
        return id;
      }
    }
    @Module({ providers: [StartupTransient], exports: [StartupTransient] })
    class SharedTransientModule {}
    @Injectable()
    class LazyConsumer {
      constructor(@Inject(StartupTransient) readonly finder: StartupTransient) {}
    }
    @Module({ imports: [SharedTransientModule], providers: [LazyConsumer] })
    class ConsumerModule {}

    const app = await boot('mem://', { imports: [SharedTransientModule] });
    const lines = await logged(async () => {
      const consumer = (await load(app, ConsumerModule)).get(LazyConsumer);
      expect(decorated(consumer.finder, 'find')).toBe(true);
      await consumer.finder.find(1);
      await consumer.finder.find(1);
    });
    expect(runs).toBe(1);
    expect(lines).toEqual([]);
  });

  it('an instance created with `new` warns once, naming the fix; the instance Nest holds is decorated', async () => {
    @Injectable()
    class LazyShelf {
      runs = 0;
      @Cache({ ttl: '1m', key: 'shelf:{id}' })
      async count(id: number): Promise<number> {
        this.runs++;
        return id;
      }
    }
    @Module({ providers: [LazyShelf] })
    class ShelfModule {}

    const app = await boot('mem://');
    const held = (await load(app, ShelfModule)).get(LazyShelf);
    const lines = await logged(async () => {
      const manual = new LazyShelf();
      await manual.count(1);
      await manual.count(1);
      expect(manual.runs).toBe(2);
      await held.count(1);
      await held.count(1);
      expect(held.runs).toBe(1);
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/LazyShelf\.count was called without its decorators \(@Cache\)/);
    expect(lines[0]).toMatch(/created with `new`/);
    expect(lines[0]).toMatch(/register the class as a provider/);
  });

  it('a request-scoped provider keeps the start-up rule: said at load, and at its first call', async () => {
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
    let lazy: ModuleRef | undefined;
    const atLoad = await logged(async () => {
      lazy = await load(app, PerRequestModule);
    });
    expect(atLoad).toHaveLength(1);
    expect(atLoad[0]).toMatch(/LazyPerRequest\.hit has cache decorators but is request-scoped/);
    const atCall = await logged(async () => {
      const first = await lazy!.resolve(LazyPerRequest);
      await first.hit();
      await first.hit(); // over the limit if it were applied: it is not, and that was said
      await (await lazy!.resolve(LazyPerRequest)).hit();
    });
    expect(atCall).toHaveLength(1);
    expect(atCall[0]).toMatch(/LazyPerRequest\.hit/);
    expect(atCall[0]).toMatch(/request-scoped provider.*singleton provider/);
  });

  it('decorators that cannot apply fail the load with the start-up error; a later load fails again', async () => {
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
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await load(app, CalculatorModule).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(CashewsConfigError);
      expect(String(error)).toMatch(/LazyCalculator\.sum is synchronous/);
    }
  });

  it('a call from the constructor, before load() returns, runs undecorated and warns once; later calls are decorated', async () => {
    @Injectable()
    class LazyWarmup {
      runs = 0;
      readonly warmed: Promise<number>;
      constructor() {
        this.warmed = this.fetch(1);
      }
      @Cache({ ttl: '1m', key: 'warmup:{id}' })
      async fetch(id: number): Promise<number> {
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
    expect(lines[0]).toMatch(/LazyWarmup\.fetch was called without its decorators \(@Cache\)/);
    expect(lines[0]).toMatch(/before LazyModuleLoader\.load\(\) returned/);
    const later = await logged(async () => {
      await warmup!.fetch(2);
      await warmup!.fetch(2);
    });
    expect(warmup!.runs).toBe(2); // the constructor's call, then one for id 2
    expect(later).toEqual([]);
  });

  it('a module loaded before init() warns at a call then, and init() decorates it with the rest', async () => {
    @Injectable()
    class LazyEarly {
      runs = 0;
      @Cache({ ttl: '1m', key: 'early' })
      async early(): Promise<number> {
        this.runs++;
        return 1;
      }
    }
    @Module({ providers: [LazyEarly] })
    class EarlyModule {}

    const moduleRef = await Test.createTestingModule({ imports: [CashewsModule.forRoot('mem://')] }).compile();
    open.push(moduleRef);
    const early = (await load(moduleRef, EarlyModule)).get(LazyEarly);
    const before = await logged(async () => {
      await early.early();
    });
    expect(before).toHaveLength(1);
    expect(before[0]).toMatch(/LazyEarly\.early was called without its decorators \(@Cache\)/);
    await moduleRef.init();
    const after = await logged(async () => {
      await early.early();
      await early.early();
    });
    expect(early.runs).toBe(2); // once before init(), once after
    expect(after).toEqual([]);
  });

  it('an application initialized after its testing module wraps load() once (its hooks run twice)', async () => {
    @Injectable()
    class LazyTwice {
      runs = 0;

      @Cache({ ttl: '1m', key: 'twice:{id}' })
      async find(id: number): Promise<number> {
        this.runs++;
        return id;
      }
    }
    @Module({ providers: [LazyTwice] })
    class TwiceModule {}

    const moduleRef = await Test.createTestingModule({ imports: [CashewsModule.forRoot('mem://')] }).compile();
    open.push(moduleRef);
    await moduleRef.init();
    const loader = moduleRef.get(LazyModuleLoader);
    const wrapped = loader.load;
    const app = moduleRef.createNestApplication({ logger: false });
    open.push(app);
    await app.init();
    // A second wrapper would walk the container again on every load() (each has its own record of modules walked).
    expect(loader.load).toBe(wrapped);
    const lazy = (await loader.load(() => TwiceModule)).get(LazyTwice);
    await lazy.find(1);
    await lazy.find(1);
    expect(lazy.runs).toBe(1);
  });

  it('a closed application is not kept alive by its lazy loads (nothing global holds it)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    @Injectable()
    class LazyGone {
      @Cache({ ttl: '1m', key: 'gone' })
      async gone(): Promise<number> {
        return 1;
      }
    }
    @Module({ providers: [LazyGone] })
    class GoneModule {}

    const refs = await (async () => {
      const moduleRef = await Test.createTestingModule({ imports: [CashewsModule.forRoot('mem://')] }).compile();
      await moduleRef.init();
      const lazy = await load(moduleRef, GoneModule);
      await lazy.get(LazyGone).gone();
      const held = { app: new WeakRef(moduleRef), loader: new WeakRef(moduleRef.get(LazyModuleLoader)) };
      await moduleRef.close();
      return held;
    })();
    for (let attempt = 0; attempt < 10 && (refs.app.deref() || refs.loader.deref()); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      gc();
    }
    expect(refs.app.deref()).toBeUndefined();
    expect(refs.loader.deref()).toBeUndefined();
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

    it('a second forRoot of the default instance is refused as at start-up (imported twice)', async () => {
      @Module({ imports: [CashewsModule.forRoot('mem://')] })
      class OwnDefaultModule {}
      const app = await boot('mem://');
      const error = await load(app, OwnDefaultModule).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(CashewsConfigError);
      expect(String(error)).toMatch(/CashewsModule\.forRoot \/ forRootAsync is imported 2 times without a name/);
    });

    it('a named forRoot of its own (an instance created after start-up) is refused, with the fix', async () => {
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
      expect((error as CashewsConfigError).code).toBe('CASHEWS_CONFIG');
      expect(String(error)).toMatch(
        /CashewsModule\.forRoot\(url, \{ name: 'lazy-own' \}\) is imported by a module loaded with LazyModuleLoader/,
      );
      expect(String(error)).toMatch(/Import it in a module loaded at start-up/);
    });

    it('a forRoot in a lazy module while the application has none is refused', async () => {
      @Injectable()
      class LazyLonely {
        @Cache({ ttl: '1m', key: 'lonely' })
        async lonely(): Promise<number> {
          return 1;
        }
      }
      @Module({ imports: [CashewsModule.forRoot('mem://')], providers: [LazyLonely] })
      class LonelyModule {}
      @Module({})
      class EmptyRoot {}

      const app = await Test.createTestingModule({ imports: [EmptyRoot] }).compile();
      open.push(app);
      await app.init();
      const error = await load(app, LonelyModule).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(CashewsConfigError);
      expect(String(error)).toMatch(
        /CashewsModule\.forRoot\(url\) is imported by a module loaded with LazyModuleLoader/,
      );
      expect(String(error)).toMatch(/Import it in a module loaded at start-up/);
    });
  });
});
