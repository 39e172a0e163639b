/**
 * The run-time switch (`cache.disabling(fn)`, `cache.disable()`/`enable()`): what "off" means for commands and for
 * decorated providers and controllers, task-locality (a concurrent call outside the scope still uses the cache),
 * nesting, and the error for an unknown command. On mem:// and on Redis.
 * Redis isolation: this file uses database 6 of the discovered Redis (flushed before each test).
 */
import {
  Controller,
  Get,
  Injectable,
  Module,
  type INestApplication,
  type MiddlewareConsumer,
  type NestMiddleware,
  type NestModule,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  Cache,
  CacheService,
  CashewsConfigError,
  CashewsModule,
  CircuitBreaker,
  CircuitOpenError,
  createCache,
  Invalidate,
  Locked,
  LockedError,
  RateLimit,
  RateLimitError,
} from '../../lib/index.js';
import { flushRedisDb, redisUrl } from '../support/redis.js';

const DB = 6;

/** Resolves once `open()` is called: holds a method mid-call so that another call can run meanwhile. */
class Gate {
  private release!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.release = resolve));
  open(): void {
    this.release();
  }
}

@Injectable()
class Catalogue {
  runs = 0;
  gate?: Gate;

  @Cache({ ttl: '1m', key: 'product:{id}' })
  async findOne(id: string): Promise<{ id: string; run: number }> {
    const run = ++this.runs;
    if (this.gate) await this.gate.opened;
    return { id, run };
  }

  @Invalidate('product:*')
  async rename(): Promise<void> {}

  @RateLimit({ limit: 1, period: '1m' })
  async limited(): Promise<string> {
    return 'ok';
  }

  @Locked({ key: 'reindex', wait: false, ttl: '1m' })
  async reindex(gate: Gate): Promise<string> {
    await gate.opened;
    return 'done';
  }

  @CircuitBreaker({ errorsRate: 1, period: '1m', ttl: '1m', minCalls: 1 })
  async fragile(fail: boolean): Promise<string> {
    if (fail) throw new Error('down');
    return 'up';
  }
}

@Controller('items')
class ItemsController {
  runs = 0;

  @Get()
  @Cache({ ttl: '1m' })
  list(): { run: number } {
    return { run: ++this.runs };
  }
}

/** What an app may do for one request: `X-Cache-Off: 1` runs it with caching off (scoped, not process-wide). */
@Injectable()
class CacheOffMiddleware implements NestMiddleware {
  constructor(private readonly cache: CacheService) {}
  use(req: { headers: Record<string, unknown> }, _res: unknown, next: () => void): void {
    if (req.headers['x-cache-off'] === '1') void this.cache.disabling(() => next());
    else next();
  }
}

function appModule(url: string) {
  @Module({
    imports: [CashewsModule.forRoot(url)],
    providers: [Catalogue, CacheOffMiddleware],
    controllers: [ItemsController],
  })
  class AppModule implements NestModule {
    configure(consumer: MiddlewareConsumer): void {
      consumer.apply(CacheOffMiddleware).forRoutes('items');
    }
  }
  return AppModule;
}

const cases: Array<[string, string | undefined]> = [
  ['mem://', 'mem://'],
  ['redis', redisUrl(DB)],
];

describe.each(cases)('runtime switch on %s', (_name, url) => {
  let app: INestApplication;
  let cache: CacheService;
  let catalogue: Catalogue;
  let items: ItemsController;

  beforeEach(async () => {
    if (!url) throw new Error('no Redis URL: start Jest through npm test (global setup finds or starts Redis)');
    if (!url.startsWith('mem://')) await flushRedisDb(DB);
    const moduleRef = await Test.createTestingModule({ imports: [appModule(url)] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    cache = app.get(CacheService);
    catalogue = app.get(Catalogue);
    items = app.get(ItemsController);
  });

  afterEach(async () => {
    await app.close();
  });

  it('disabling(fn): decorated provider methods run every time and store nothing; after it, caching is back', async () => {
    await cache.disabling(async () => {
      expect(cache.isDisabled()).toBe(true);
      expect((await catalogue.findOne('1')).run).toBe(1);
      expect((await catalogue.findOne('1')).run).toBe(2);
      expect(await cache.get("product:'1'", 'none')).toBe('none');
    });
    expect(cache.isDisabled()).toBe(false);
    expect(await cache.exists("product:'1'")).toBe(false);
    expect((await catalogue.findOne('1')).run).toBe(3);
    expect((await catalogue.findOne('1')).run).toBe(3);
  });

  it('is task-local: a concurrent call outside the scope still reads the cache', async () => {
    await catalogue.findOne('7'); // run 1, stored
    const gate = new Gate();
    catalogue.gate = gate;
    const inside = cache.disabling(() => catalogue.findOne('7'));
    // The call inside the scope is now running the method (run 2) and waits on the gate.
    await new Promise((resolve) => setImmediate(resolve));
    expect(catalogue.runs).toBe(2);
    const outside = await catalogue.findOne('7');
    expect(outside.run).toBe(1); // served from cache while the scope is open
    expect(await cache.get("product:'7'")).toEqual({ id: '7', run: 1 });
    gate.open();
    expect((await inside).run).toBe(2);
    catalogue.gate = undefined;
    expect((await catalogue.findOne('7')).run).toBe(1); // the scoped run stored nothing
  });

  it('commands: get misses with its default, set is dropped (false), delete still works', async () => {
    await cache.set('k', 'stored');
    await cache.disabling(async () => {
      expect(await cache.get('k', 'default')).toBe('default');
      expect(await cache.getMany(['k', 'other'], 0)).toEqual([0, 0]);
      expect(await cache.exists('k')).toBe(false);
      expect(await cache.getExpire('k')).toBe(-2);
      expect(await cache.set('k2', 'new')).toBe(false);
      expect(await cache.getOrSet('k3', () => 'computed')).toBe('computed');
      expect(await cache.delete('k')).toBe(true); // invalidation is never switched off by default
    });
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.exists('k2')).toBe(false);
    expect(await cache.exists('k3')).toBe(false);
  });

  it("only 'get' off: decorated calls recompute and store the fresh result (refresh mode)", async () => {
    await catalogue.findOne('2'); // run 1
    const fresh = await cache.disabling(['get'], () => catalogue.findOne('2'));
    expect(fresh.run).toBe(2);
    expect((await catalogue.findOne('2')).run).toBe(2);
  });

  it('nested scopes add their commands; leaving the inner one restores the outer one', async () => {
    await cache.disabling(['limit'], async () => {
      expect(cache.isDisabled('limit')).toBe(true);
      expect(cache.isDisabled('get')).toBe(false);
      await cache.disabling(async () => {
        expect(cache.isDisabled('limit')).toBe(true);
        expect(cache.isDisabled('get')).toBe(true);
        expect((await catalogue.findOne('3')).run).toBe(1);
        expect((await catalogue.findOne('3')).run).toBe(2);
      });
      expect(cache.isDisabled('get')).toBe(false);
      expect((await catalogue.findOne('3')).run).toBe(3);
      expect((await catalogue.findOne('3')).run).toBe(3);
      // The outer scope still lets every call through the rate limit (limit 1 a minute).
      expect(await catalogue.limited()).toBe('ok');
      expect(await catalogue.limited()).toBe('ok');
    });
    expect(cache.isDisabled('limit')).toBe(false);
  });

  it('protective decorators keep working with caching off unless named', async () => {
    await cache.disabling(async () => {
      expect(await catalogue.limited()).toBe('ok');
      await expect(catalogue.limited()).rejects.toBeInstanceOf(RateLimitError);
    });
    await cache.disabling(['limit'], async () => {
      expect(await catalogue.limited()).toBe('ok');
    });
    await expect(catalogue.limited()).rejects.toBeInstanceOf(RateLimitError);
  });

  it("'lock' off: @Locked runs without the lock; 'circuit' off: an open circuit lets calls through", async () => {
    const gate = new Gate();
    const holder = catalogue.reindex(gate);
    await new Promise((resolve) => setImmediate(resolve));
    await expect(catalogue.reindex(new Gate())).rejects.toBeInstanceOf(LockedError);
    const open = new Gate();
    open.open();
    expect(await cache.disabling(['lock'], () => catalogue.reindex(open))).toBe('done');
    gate.open();
    expect(await holder).toBe('done');

    await expect(catalogue.fragile(true)).rejects.toThrow('down');
    await expect(catalogue.fragile(false)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(await cache.disabling(['circuit'], () => catalogue.fragile(false))).toBe('up');
    await expect(catalogue.fragile(false)).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it("'delete' off: @Invalidate and delete do nothing", async () => {
    await catalogue.findOne('4');
    await cache.disabling(['delete'], async () => {
      await catalogue.rename();
      expect(await cache.delete("product:'4'")).toBe(false);
    });
    expect((await catalogue.findOne('4')).run).toBe(1);
    await catalogue.rename();
    expect((await catalogue.findOne('4')).run).toBe(2);
  });

  it('controllers: a request run inside a scope (middleware) is not cached; other requests are', async () => {
    const server = app.getHttpServer();
    expect((await request(server).get('/items')).body).toEqual({ run: 1 });
    expect((await request(server).get('/items')).body).toEqual({ run: 1 });
    expect((await request(server).get('/items').set('X-Cache-Off', '1')).body).toEqual({ run: 2 });
    expect((await request(server).get('/items').set('X-Cache-Off', '1')).body).toEqual({ run: 3 });
    expect((await request(server).get('/items')).body).toEqual({ run: 1 });
    expect(items.runs).toBe(3);
  });

  it('disable()/enable(): process-wide, without re-bootstrap, for controllers and providers', async () => {
    const server = app.getHttpServer();
    cache.disable();
    expect((await request(server).get('/items')).body).toEqual({ run: 1 });
    expect((await request(server).get('/items')).body).toEqual({ run: 2 });
    expect((await catalogue.findOne('5')).run).toBe(1);
    expect((await catalogue.findOne('5')).run).toBe(2);
    cache.enable();
    expect(cache.isDisabled()).toBe(false);
    expect((await request(server).get('/items')).body).toEqual({ run: 3 });
    expect((await request(server).get('/items')).body).toEqual({ run: 3 });
    expect((await catalogue.findOne('5')).run).toBe(3);
    expect((await catalogue.findOne('5')).run).toBe(3);
  });

  it('enable(command) turns back on only what it names', async () => {
    cache.disable('get', 'set', 'limit');
    cache.enable('get', 'set');
    expect(cache.isDisabled()).toBe(false);
    expect(cache.isDisabled('limit')).toBe(true);
    cache.enable();
    expect(cache.isDisabled('limit')).toBe(false);
  });
});

describe('runtime switch: bad input', () => {
  it('an unknown command is a CashewsConfigError naming the accepted ones', async () => {
    const instance = await createCache('mem://');
    try {
      expect(() => instance.disable('gte' as never)).toThrow(CashewsConfigError);
      expect(() => instance.disable('gte' as never)).toThrow(
        `cache.disable(): unknown command "gte"; accepted: 'get', 'set', 'delete', 'lock', 'limit', 'circuit'`,
      );
      expect(() => instance.disabling(['toString' as never], () => 1)).toThrow(/unknown command "toString"/);
      expect(() => instance.disabling('get' as never, undefined as never)).toThrow(CashewsConfigError);
      expect(instance.isDisabled()).toBe(false);
    } finally {
      await instance.close();
    }
  });
});
