/**
 * The recipes of the README section "Testing your app", run as written: an app on mem://, fake timers moving
 * mem:// TTLs and rate-limit windows, `overrideProvider(CacheService)` (a real instance, and a hand-made mock),
 * `resetCaches(app)` between tests.
 */
import { jest } from '@jest/globals';
import { Controller, Get, Injectable, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  Cache,
  cacheInstances,
  CacheService,
  CashewsConfigError,
  CashewsModule,
  createCache,
  InjectCache,
  RateLimit,
  RateLimitError,
  resetCaches,
} from '../../lib/index.js';

@Injectable()
class Prices {
  runs = 0;

  @Cache({ ttl: '10s', key: 'price:{id}' })
  async price(id: string): Promise<{ id: string; run: number }> {
    return { id, run: ++this.runs };
  }

  @RateLimit({ limit: 1, period: '1m' })
  async quote(): Promise<string> {
    return 'quote';
  }
}

@Injectable()
class Sessions {
  constructor(@InjectCache('sessions') readonly cache: CacheService) {}
}

@Controller('prices')
class PricesController {
  constructor(private readonly prices: Prices) {}

  @Get(':id')
  @Cache({ ttl: '10s' })
  price(): Promise<{ id: string; run: number }> {
    return this.prices.price('http');
  }
}

/**
 * The application module as production configures it: the URL comes from the environment when the app boots
 * (tests set CACHE_URL=mem://), else a Redis the tests never reach (safe=0: bootstrap would fail).
 */
@Module({
  imports: [
    CashewsModule.forRootAsync({
      useFactory: () => ({ url: process.env.CACHE_URL ?? 'redis://127.0.0.1:1/0?safe=0' }),
    }),
    CashewsModule.forRoot('mem://', { name: 'sessions' }),
  ],
  providers: [Prices, Sessions],
  controllers: [PricesController],
})
class AppModule {}

describe('testing recipes', () => {
  let app: INestApplication | undefined;
  const previousUrl = process.env.CACHE_URL;

  beforeAll(() => {
    process.env.CACHE_URL = 'mem://';
  });

  afterAll(() => {
    if (previousUrl === undefined) delete process.env.CACHE_URL;
    else process.env.CACHE_URL = previousUrl;
  });

  afterEach(async () => {
    jest.useRealTimers();
    await app?.close();
    app = undefined;
  });

  async function boot(override?: CacheService): Promise<INestApplication> {
    let builder = Test.createTestingModule({ imports: [AppModule] });
    if (override) builder = builder.overrideProvider(CacheService).useValue(override);
    const moduleRef = await builder.compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return app;
  }

  it('jest.useFakeTimers() moves mem:// TTLs and rate-limit windows with advanceTimersByTime', async () => {
    const nest = await boot();
    const prices = nest.get(Prices);
    jest.useFakeTimers();
    expect((await prices.price('1')).run).toBe(1);
    jest.advanceTimersByTime(9_000);
    expect((await prices.price('1')).run).toBe(1);
    expect(await nest.get(CacheService).getExpire("price:'1'")).toBe(1_000);
    jest.advanceTimersByTime(1_001);
    expect((await prices.price('1')).run).toBe(2);

    expect(await prices.quote()).toBe('quote');
    await expect(prices.quote()).rejects.toBeInstanceOf(RateLimitError);
    jest.advanceTimersByTime(60_001);
    expect(await prices.quote()).toBe('quote');
  });

  it('resetCaches(app) empties every instance, protection state included, and undoes disable()', async () => {
    const nest = await boot();
    const prices = nest.get(Prices);
    const sessions = nest.get(Sessions).cache;
    await prices.price('2');
    await prices.quote();
    await sessions.set('alice', ['1']);
    nest.get(CacheService).disable('set');
    expect(cacheInstances(nest)).toHaveLength(2);

    await resetCaches(nest);

    expect(nest.get(CacheService).isDisabled('set')).toBe(false);
    expect(await sessions.get('alice')).toBeUndefined();
    expect((await prices.price('2')).run).toBe(2);
    expect(await prices.quote()).toBe('quote');
  });

  it('overrideProvider(CacheService).useValue(instance): decorators of providers and controllers use it', async () => {
    const substitute = await createCache('mem://');
    try {
      delete process.env.CACHE_URL; // the module would now use the unreachable Redis URL (safe=0: bootstrap fails)
      const nest = await boot(substitute);
      expect(nest.get(CacheService)).toBe(substitute);
      await nest.get(Prices).price('3');
      expect(await substitute.get("price:'3'")).toEqual({ id: '3', run: 1 });
      const first = await request(nest.getHttpServer()).get('/prices/9');
      const second = await request(nest.getHttpServer()).get('/prices/9');
      expect(second.body).toEqual(first.body);
      expect(nest.get(Prices).runs).toBe(2);
      let keys = 0;
      for await (const key of substitute.scan('PricesController:*')) keys += key ? 1 : 0;
      expect(keys).toBe(1);
      expect(cacheInstances(nest)).toContain(substitute);
    } finally {
      process.env.CACHE_URL = 'mem://';
      await substitute.close();
    }
  });

  it('overrideProvider(CacheService) with a hand-made mock is refused at bootstrap when decorated methods would use it', async () => {
    const mock = { get: jest.fn(async () => 'mocked') } as unknown as CacheService;
    const error = await boot(mock).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CashewsConfigError);
    expect((error as Error).message).toContain('is not a CacheService');
    expect((error as Error).message).toContain("createCache('mem://')");
  });
});
