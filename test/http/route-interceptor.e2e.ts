/**
 * Issue #15, "no cost where nothing is decorated": decorators attach the library's interceptor to their own
 * methods, so an application without HTTP options has no global interceptor and a route without decorators never
 * enters the library; an HTTP option that concerns every route registers the global one (detection headers alone use
 * the module's middleware instead); `globalInterceptors` forces either way. Counted by wrapping the interceptors' `intercept` for the duration of each test.
 */
import {
  Controller,
  Get,
  Injectable,
  InternalServerErrorException,
  Module,
  NotFoundException,
  type DynamicModule,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { Cache, CashewsModule } from '../../lib/index.js';
import { countInterceptors } from './harness.js';

@Injectable()
class Catalogue {
  runs = 0;

  @Cache({ ttl: '1m', key: 'route-interceptor:{id}' })
  async product(id: string): Promise<{ id: string; run: number }> {
    return { id, run: ++this.runs };
  }

  @Cache({ ttl: '1m', key: 'route-interceptor:missing', cacheErrors: [NotFoundException] })
  async missing(): Promise<never> {
    this.runs++;
    throw new NotFoundException('no such product');
  }
}

@Controller('ri')
class ProductsController {
  handlerRuns = 0;

  constructor(private readonly catalogue: Catalogue) {}

  @Get('bare')
  bare(): { ok: boolean } {
    return { ok: true };
  }

  @Get('service')
  service(): Promise<{ id: string; run: number }> {
    return this.catalogue.product('7');
  }

  @Get('missing')
  missing(): Promise<never> {
    return this.catalogue.missing();
  }

  /** Turns the cached error into a fresh one of its own. */
  @Get('recovered')
  async recovered(): Promise<never> {
    try {
      return await this.catalogue.missing();
    } catch {
      throw new InternalServerErrorException('upstream said no');
    }
  }

  @Get('cached')
  @Cache({ ttl: '1m' })
  cached(): { run: number } {
    return { run: ++this.handlerRuns };
  }
}

async function start(root: DynamicModule) {
  @Module({ imports: [root], controllers: [ProductsController], providers: [Catalogue] })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

describe('the library interceptor on decorated methods only', () => {
  let spy: ReturnType<typeof countInterceptors>;
  beforeEach(() => (spy = countInterceptors()));
  afterEach(() => spy.restore());

  it('without HTTP options: a route without decorators never enters the library; a decorated one is cached', async () => {
    const app = await start(CashewsModule.forRoot('mem://'));
    try {
      await request(app.getHttpServer()).get('/ri/bare').expect(200, { ok: true });
      await request(app.getHttpServer()).get('/ri/service').expect(200, { id: '7', run: 1 });
      expect(spy.counts).toEqual({ headers: 0, strategies: 0 });
      await request(app.getHttpServer()).get('/ri/cached').expect(200, { run: 1 });
      await request(app.getHttpServer()).get('/ri/cached').expect(200, { run: 1 }); // a hit: the handler did not run
      // A direct route (test/http/direct-routes.e2e.ts): the handler's own function ran the layers, no interceptor.
      expect(spy.counts).toEqual({ headers: 0, strategies: 0 });
    } finally {
      await app.close();
    }
  });

  it('with detectHeaders alone: no interceptor on any route; the headers still describe every hit', async () => {
    const app = await start(CashewsModule.forRoot('mem://', { detectHeaders: true }));
    try {
      // An undecorated route calling a cached service: the module's middleware describes it.
      await request(app.getHttpServer()).get('/ri/service').expect(200);
      const hit = await request(app.getHttpServer()).get('/ri/service').expect(200, { id: '7', run: 1 });
      expect(hit.headers['x-from-cache']).toBe("route-interceptor:'7'");
      // A decorated route (a direct route) describes its own hit.
      await request(app.getHttpServer()).get('/ri/cached').expect(200, { run: 1 });
      const cached = await request(app.getHttpServer()).get('/ri/cached').expect(200, { run: 1 });
      expect(cached.headers['x-from-cache']).toMatch(/^ProductsController:cached:/);
      // An error response of an undecorated route is not described: only the route's own layers (or the global
      // interceptor) can tell an error served from cache from a fresh one the handler threw after reading it.
      const fresh = await request(app.getHttpServer()).get('/ri/missing').expect(404);
      expect(fresh.headers['x-from-cache']).toBeUndefined();
      const stored = await request(app.getHttpServer()).get('/ri/missing').expect(404);
      expect(stored.headers['x-from-cache']).toBeUndefined();
      const recovered = await request(app.getHttpServer()).get('/ri/recovered').expect(500);
      expect(recovered.headers['x-from-cache']).toBeUndefined();
      await request(app.getHttpServer()).get('/ri/bare').expect(200);
      expect(spy.counts).toEqual({ headers: 0, strategies: 0 });
    } finally {
      await app.close();
    }
  });

  it('with an option every route needs the interceptor for (cacheControl): every route passes the global one', async () => {
    const app = await start(CashewsModule.forRoot('mem://', { detectHeaders: true, cacheControl: true }));
    try {
      await request(app.getHttpServer()).get('/ri/service').expect(200);
      const hit = await request(app.getHttpServer()).get('/ri/service').expect(200, { id: '7', run: 1 });
      expect(hit.headers['x-from-cache']).toBe("route-interceptor:'7'");
      expect(hit.headers['cache-control']).toMatch(/^private, max-age=\d+$/);
      await request(app.getHttpServer()).get('/ri/cached').expect(200, { run: 1 });
      const cached = await request(app.getHttpServer()).get('/ri/cached').expect(200, { run: 1 });
      expect(cached.headers['x-from-cache']).toMatch(/^ProductsController:cached:/);
      // The undecorated route passes the global interceptor (once).
      spy.counts.headers = 0;
      await request(app.getHttpServer()).get('/ri/bare').expect(200);
      expect(spy.counts.headers).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('forRootAsync without HTTP options: no global interceptor, and decorated handlers are direct routes', async () => {
    const app = await start(CashewsModule.forRootAsync({ useFactory: async () => ({ url: 'mem://' }) }));
    try {
      await request(app.getHttpServer()).get('/ri/bare').expect(200, { ok: true });
      await request(app.getHttpServer()).get('/ri/cached').expect(200, { run: 1 });
      await request(app.getHttpServer()).get('/ri/cached').expect(200, { run: 1 });
      expect(spy.counts).toEqual({ headers: 0, strategies: 0 });
    } finally {
      await app.close();
    }
  });

  it('forRootAsync whose factory asks for cacheControl: the global interceptor is registered at start-up', async () => {
    const app = await start(
      CashewsModule.forRootAsync({
        useFactory: async () => ({ url: 'mem://', detectHeaders: true, cacheControl: true }),
      }),
    );
    try {
      await request(app.getHttpServer()).get('/ri/service').expect(200);
      const hit = await request(app.getHttpServer()).get('/ri/service').expect(200, { id: '7', run: 1 });
      expect(hit.headers['x-from-cache']).toBe("route-interceptor:'7'");
      expect(hit.headers['cache-control']).toMatch(/^private, max-age=\d+$/);
      // The undecorated route passes the global interceptor (once), as with forRoot.
      spy.counts.headers = 0;
      await request(app.getHttpServer()).get('/ri/bare').expect(200);
      expect(spy.counts.headers).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('forRootAsync with globalInterceptors: true registers it without HTTP options; false never, whatever the factory says', async () => {
    for (const [globalInterceptors, expected] of [
      [true, 1],
      [false, 0],
    ] as const) {
      spy.counts.headers = 0;
      const app = await start(
        CashewsModule.forRootAsync({ globalInterceptors, useFactory: () => ({ url: 'mem://', clearSiteData: true }) }),
      );
      try {
        await request(app.getHttpServer()).get('/ri/bare').expect(200);
        expect(spy.counts.headers).toBe(expected);
      } finally {
        await app.close();
      }
    }
  });

  it('globalInterceptors: true registers the global interceptor without HTTP options; false never', async () => {
    for (const [globalInterceptors, expected] of [
      [true, 1],
      [false, 0],
    ] as const) {
      spy.counts.headers = 0;
      const app = await start(CashewsModule.forRoot('mem://', { globalInterceptors }));
      try {
        await request(app.getHttpServer()).get('/ri/bare').expect(200);
        expect(spy.counts.headers).toBe(expected);
        // A decorated handler is cached either way.
        await request(app.getHttpServer()).get('/ri/cached').expect(200);
      } finally {
        await app.close();
      }
    }
  });
});
