/**
 * Telling the client where a response came from, over supertest on Express and Fastify (mem:// and Redis
 * db 4): X-From-Cache* headers for cached calls deep inside services, Age / Cache-Control, request
 * Cache-Control directives, Clear-Site-Data, ETag / 304, and FromCacheMiddleware without the module option.
 */
import { jest } from '@jest/globals';
import {
  Controller,
  Get,
  Header,
  Injectable,
  Logger,
  Module,
  Param,
  Put,
  type DynamicModule,
  type INestApplication,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  Cache,
  CacheService,
  CashewsModule,
  Failover,
  FromCacheMiddleware,
  Invalidate,
  type CashewsHttpOptions,
} from '../../lib/index.js';
import { flushRedisDb, redisUrl } from '../support/redis.js';

const DB = 4;
const calls = { product: 0, etag: 0, price: 0 };

class UpstreamError extends Error {
  override name = 'UpstreamError';
}

@Injectable()
class CatalogueService {
  down = false;

  @Cache({ ttl: '1m', key: 'hd:product:{id}', tags: ['hd:product:{id}'] })
  async product(id: string) {
    calls.product++;
    return { id, n: calls.product };
  }

  @Failover({ ttl: '1m', key: 'hd:price:{id}' })
  async price(id: string) {
    calls.price++;
    if (this.down) throw new UpstreamError('upstream down');
    return { id, cents: 100 };
  }
}

@Controller('hd')
class HeadersController {
  constructor(private readonly catalogue: CatalogueService) {}

  @Get('product/:id')
  async product(@Param('id') id: string) {
    // The cached call is two levels below the handler.
    return { product: await this.catalogue.product(id) };
  }

  @Put('product/:id')
  @Invalidate({ tags: ['hd:product:{id}'] })
  update(@Param('id') id: string) {
    return { updated: id };
  }

  @Get('lone/:id')
  async lone(@Param('id') id: string) {
    // A lone surrogate cannot arrive in a URL; a service can still be called with one.
    return { product: await this.catalogue.product(`\uD800${id}`) };
  }

  @Get('price/:id')
  price(@Param('id') id: string) {
    return this.catalogue.price(id);
  }

  @Get('own/:id')
  @Cache({ ttl: '1m', key: 'hd:own:{id}' })
  own(@Param('id') id: string) {
    return { own: id };
  }

  @Get('no-store/:id')
  @Header('Cache-Control', 'no-store')
  @Cache({ ttl: '1m', key: 'hd:no-store:{id}' })
  noStore(@Param('id') id: string) {
    return { secret: id };
  }

  @Get('etag/:id')
  @Cache({ ttl: '1m', key: 'hd:etag:{id}', etag: true })
  etag(@Param('id') id: string) {
    calls.etag++;
    return { id, body: 'stable' };
  }
}

type Adapter = 'express' | 'fastify';

async function createApp(
  adapter: Adapter,
  url: string,
  options: CashewsHttpOptions,
  middleware = false,
  prefix?: string,
) {
  @Module({ controllers: [HeadersController], providers: [CatalogueService] })
  class FeatureModule implements NestModule {
    configure(consumer: MiddlewareConsumer) {
      if (middleware) consumer.apply(FromCacheMiddleware).forRoutes(HeadersController);
    }
  }
  const imports: Array<DynamicModule | typeof FeatureModule> = [CashewsModule.forRoot(url, options), FeatureModule];
  const moduleRef = await Test.createTestingModule({ imports }).compile();
  const app: INestApplication =
    adapter === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication({ logger: false });
  if (prefix) app.setGlobalPrefix(prefix);
  await app.init();
  if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return app;
}

const cases: Array<[Adapter, string, string | undefined]> = [
  ['express', 'mem', 'mem://'],
  ['fastify', 'mem', 'mem://'],
  ['express', 'redis', redisUrl(DB)],
  ['fastify', 'redis', redisUrl(DB)],
];

for (const [adapter, backend, url] of cases) {
  const suite = url ? describe : describe.skip;
  suite(`cache headers [${adapter} / ${backend}]`, () => {
    let app: INestApplication | undefined;

    beforeEach(async () => {
      calls.product = calls.etag = calls.price = 0;
      if (backend === 'redis') await flushRedisDb(DB);
    });
    afterEach(async () => {
      await app?.close();
      app = undefined;
    });
    afterAll(() => (backend === 'redis' ? flushRedisDb(DB) : undefined));

    it('adds X-From-Cache, expiry, Age and Cache-Control when a cached call deep in a service answered', async () => {
      app = await createApp(adapter, url as string, { detectHeaders: true, cacheControl: true });
      const server = app.getHttpServer();
      const cold = await request(server).get('/hd/product/1').expect(200);
      expect(cold.headers['x-from-cache']).toBeUndefined();
      expect(cold.headers['cache-control']).toBeUndefined();
      const warm = await request(server).get('/hd/product/1').expect(200);
      expect(warm.body).toEqual({ product: { id: '1', n: 1 } });
      expect(warm.headers['x-from-cache']).toBe("hd:product:'1'");
      const left = Number(warm.headers['x-from-cache-expire-in-seconds']);
      expect(left).toBeGreaterThanOrEqual(58);
      expect(left).toBeLessThanOrEqual(60);
      expect(warm.headers['cache-control']).toBe(`private, max-age=${left}`);
      expect(Number(warm.headers['age'])).toBeLessThanOrEqual(2);
      expect(warm.headers['x-from-cache-exc']).toBeUndefined();
    });

    // Cache-Control on a hit overrode the application's own (`@Header('Cache-Control', 'no-store')` on the miss,
    // `public, max-age=59` on the hit), and `public` was sent for a response the route built afresh around a
    // cached value, which a shared cache would then keep for every user.
    // The headers middleware was mounted with forRoutes('*'): under a global prefix Nest logged "Unsupported route
    // path" at every start.
    it('under a global prefix: headers on hits, and no route-path warning from Nest at start-up', async () => {
      const warnings: string[] = [];
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
        warnings.push(String(message));
      });
      try {
        app = await createApp(adapter, url as string, { detectHeaders: true }, false, 'api');
      } finally {
        warn.mockRestore();
      }
      const server = app.getHttpServer();
      await request(server).get('/api/hd/product/1').expect(200);
      const warm = await request(server).get('/api/hd/product/1').expect(200);
      expect(warm.headers['x-from-cache']).toBe("hd:product:'1'");
      expect(warnings.filter((line) => /route path/i.test(line))).toEqual([]);
    });

    it("keeps the application's own Cache-Control on a hit", async () => {
      app = await createApp(adapter, url as string, { detectHeaders: true, cacheControl: { public: true } });
      const server = app.getHttpServer();
      const cold = await request(server).get('/hd/no-store/1').expect(200);
      expect(cold.headers['cache-control']).toBe('no-store');
      const warm = await request(server).get('/hd/no-store/1').expect(200);
      expect(warm.headers['x-from-cache']).toBe("hd:no-store:'1'");
      expect(warm.headers['cache-control']).toBe('no-store');
    });

    it('sends public only for a response its route served from cache, private for one built around a cached value', async () => {
      app = await createApp(adapter, url as string, { detectHeaders: true, cacheControl: { public: true } });
      const server = app.getHttpServer();
      await request(server).get('/hd/own/1').expect(200);
      const served = await request(server).get('/hd/own/1').expect(200);
      expect(served.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
      await request(server).get('/hd/product/1').expect(200);
      const built = await request(server).get('/hd/product/1').expect(200);
      expect(built.headers['x-from-cache']).toBe("hd:product:'1'");
      expect(built.headers['cache-control']).toMatch(/^private, max-age=\d+$/);
    });

    it('answers 200 on miss and hit with an emoji or a lone surrogate in the key; the header decodes to the key', async () => {
      app = await createApp(adapter, url as string, { detectHeaders: true, cacheControl: true });
      const server = app.getHttpServer();
      const cases: Array<[string, string]> = [
        ['/hd/product/%F0%9F%98%80', 'hd:product:\u{1F600}'],
        ['/hd/lone/1', 'hd:product:%ED%A0%801'],
      ];
      for (const [path, key] of cases) {
        const cold = await request(server).get(path).expect(200);
        expect(cold.headers['x-from-cache']).toBeUndefined();
        const warm = await request(server).get(path).expect(200);
        expect(warm.body).toEqual(cold.body);
        const header = String(warm.headers['x-from-cache']);
        expect(header).toMatch(/^[\x21-\x7e]+$/);
        expect(decodeURIComponent(header)).toBe(key);
        expect(await app.get(CacheService).exists(key)).toBe(true);
        expect(warm.headers['cache-control']).toMatch(/^private, max-age=\d+$/);
      }
    });

    it('names the exception a failover value stood in for', async () => {
      app = await createApp(adapter, url as string, { detectHeaders: true });
      const server = app.getHttpServer();
      await request(server).get('/hd/price/1').expect(200);
      app.get(CatalogueService).down = true;
      const res = await request(server).get('/hd/price/1').expect(200);
      expect(res.body).toEqual({ id: '1', cents: 100 });
      expect(res.headers['x-from-cache']).toBe("hd:price:'1'");
      expect(res.headers['x-from-cache-exc']).toBe('UpstreamError');
    });

    it('honours request Cache-Control: no-cache, no-store and max-age', async () => {
      app = await createApp(adapter, url as string, { detectHeaders: true, cacheControl: true });
      const server = app.getHttpServer();
      const cache = app.get(CacheService);
      await request(server).get('/hd/product/1').expect(200); // n: 1, stored

      const noCache = await request(server).get('/hd/product/1').set('Cache-Control', 'no-cache').expect(200);
      expect(noCache.body.product.n).toBe(2);
      expect(noCache.headers['x-from-cache']).toBeUndefined();
      expect(await cache.get("hd:product:'1'")).toEqual({ id: '1', n: 2 }); // the fresh value was stored

      const noStore = await request(server).get('/hd/product/1').set('Cache-Control', 'no-store').expect(200);
      expect(noStore.body.product.n).toBe(3);
      expect(await cache.get("hd:product:'1'")).toEqual({ id: '1', n: 2 }); // not stored

      const young = await request(server).get('/hd/product/1').set('Cache-Control', 'max-age=60').expect(200);
      expect(young.body.product.n).toBe(2);
      expect(young.headers['x-from-cache']).toBe("hd:product:'1'");
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const old = await request(server).get('/hd/product/1').set('Cache-Control', 'max-age=1').expect(200);
      expect(old.body.product.n).toBe(4);
    });

    it('ignores request Cache-Control unless the module opted in', async () => {
      app = await createApp(adapter, url as string, { detectHeaders: true });
      const server = app.getHttpServer();
      await request(server).get('/hd/product/1').expect(200);
      const res = await request(server).get('/hd/product/1').set('Cache-Control', 'no-cache').expect(200);
      expect(res.body.product.n).toBe(1);
      expect(res.headers['cache-control']).toBeUndefined();
    });

    it('Clear-Site-Data: "cache" makes the request delete the keys it reads', async () => {
      app = await createApp(adapter, url as string, { clearSiteData: true });
      const server = app.getHttpServer();
      const cache = app.get(CacheService);
      await request(server).get('/hd/product/1').expect(200);
      await request(server).get('/hd/price/1').expect(200);
      expect(await cache.exists("hd:product:'1'")).toBe(true);
      const res = await request(server).get('/hd/product/1').set('Clear-Site-Data', '"cache"').expect(200);
      expect(res.body.product.n).toBe(2);
      await request(server).get('/hd/product/1').expect(200);
      expect(calls.product).toBe(2);
    });

    it('answers 304 to If-None-Match with the current ETag without running the handler', async () => {
      app = await createApp(adapter, url as string, {});
      const server = app.getHttpServer();
      const first = await request(server).get('/hd/etag/1').expect(200);
      const etag = first.headers['etag'];
      expect(etag).toMatch(/^W\/".+"$/);
      const again = await request(server).get('/hd/etag/1').set('If-None-Match', etag).expect(304);
      expect(again.headers['etag']).toBe(etag);
      expect(again.text ?? '').toBe('');
      expect(calls.etag).toBe(1);
      const other = await request(server).get('/hd/etag/1').set('If-None-Match', 'W/"other"').expect(200);
      expect(other.body).toEqual({ id: '1', body: 'stable' });
      expect(calls.etag).toBe(1);
    });

    it('invalidates by tag from a controller (PUT) so the next GET is fresh', async () => {
      app = await createApp(adapter, url as string, { detectHeaders: true });
      const server = app.getHttpServer();
      await request(server).get('/hd/product/7').expect(200);
      await request(server).put('/hd/product/7').expect(200);
      const res = await request(server).get('/hd/product/7').expect(200);
      expect(res.body.product.n).toBe(2);
      expect(res.headers['x-from-cache']).toBeUndefined();
    });

    it('FromCacheMiddleware turns the headers on without the module option; nothing is added otherwise', async () => {
      app = await createApp(adapter, url as string, {}, true);
      let server = app.getHttpServer();
      await request(server).get('/hd/product/1').expect(200);
      const withMiddleware = await request(server).get('/hd/product/1').expect(200);
      expect(withMiddleware.headers['x-from-cache']).toBe("hd:product:'1'");
      await app.close();

      app = await createApp(adapter, url as string, {});
      server = app.getHttpServer();
      await request(server).get('/hd/product/2').expect(200);
      const without = await request(server).get('/hd/product/2').expect(200);
      expect(without.body.product.n).toBe(calls.product);
      expect(without.headers['x-from-cache']).toBeUndefined();
    });
  });
}
