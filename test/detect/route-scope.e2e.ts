/**
 * Issue #15, "headers without a tax": while nothing but a route's own layers can report a hit (no decorated provider,
 * no code using `CacheDetect`), the request's detection scope is handed to those layers and never entered in
 * AsyncLocalStorage, whose promise hook every promise of the process would pay for from then on (Node 20). The
 * headers and request directives work as they do with the scope in the async context; a decorated provider or any
 * use of `CacheDetect` puts scopes back in the async context. Express and Fastify, mem:// and Redis.
 */
import { randomUUID } from 'node:crypto';
import {
  Controller,
  Get,
  Injectable,
  Module,
  NotFoundException,
  Param,
  type INestApplication,
  type Type,
} from '@nestjs/common';
import request from 'supertest';
import { Cache, CacheDetect, CacheService, type CashewsHttpOptions } from '../../lib/index.js';
import { detectContext } from '../../lib/detect/cache-detect.js';
import { redisUrl } from '../support/redis.js';
import { createTestApp, type AdapterName as Adapter } from '../http/harness.js';

const RUN = `rs-${randomUUID().slice(0, 8)}`;
const calls = { item: 0, missing: 0 };
/** Whether the handler found a detection scope in the async context, each time it ran. */
const seen: boolean[] = [];

@Controller('rs')
class RouteOnlyController {
  @Get('item/:id')
  @Cache({ ttl: '1m', key: `${RUN}:item:{id}` })
  item(@Param('id') id: string) {
    calls.item++;
    seen.push(detectContext.current() !== undefined);
    return { id, n: calls.item };
  }

  @Get('missing/:id')
  @Cache({ ttl: '1m', key: `${RUN}:missing:{id}`, cacheErrors: [NotFoundException] })
  missing(@Param('id') id: string) {
    calls.missing++;
    throw new NotFoundException(`no item ${id}`);
  }
}

@Injectable()
class Catalogue {
  @Cache({ ttl: '1m', key: `${RUN}:provided:{id}` })
  async provided(id: string) {
    return { id };
  }
}

@Controller('rs-provided')
class ProvidedController {
  constructor(private readonly catalogue: Catalogue) {}

  @Get(':id')
  async get(@Param('id') id: string) {
    seen.push(detectContext.current() !== undefined);
    return this.catalogue.provided(id);
  }
}

/** The HTTP groups' own app factory (test/http/harness.ts), with `feature` as the module under test. */
async function createApp(adapter: Adapter, url: string, options: CashewsHttpOptions, feature: Type) {
  const backend = url.startsWith('mem:') ? 'mem' : 'redis';
  return (await createTestApp({ adapter, backend, url }, { options, imports: [feature] })).app;
}

@Module({ controllers: [RouteOnlyController] })
class RouteOnlyModule {}

@Module({ controllers: [ProvidedController], providers: [Catalogue] })
class ProvidedModule {}

const cases: Array<[Adapter, string, string | undefined]> = [
  ['express', 'mem', 'mem://'],
  ['fastify', 'mem', 'mem://'],
  ['express', 'redis', redisUrl()],
  ['fastify', 'redis', redisUrl()],
];

for (const [adapter, backend, url] of cases) {
  const suite = url ? describe : describe.skip;
  suite(`route detection scope without the async context [${adapter} / ${backend}]`, () => {
    let app: INestApplication | undefined;

    beforeEach(() => {
      calls.item = calls.missing = 0;
      seen.length = 0;
      // As in a process where nothing has used CacheDetect nor decorated a provider yet.
      detectContext.reset();
    });
    afterEach(async () => {
      if (app) await app.get(CacheService).deleteMatch(`${RUN}:*`);
      await app?.close();
      app = undefined;
    });
    // Other suites of this Jest file start from what they always had: scopes in the async context.
    afterAll(() => detectContext.need());

    it('a route @Cache hit gets X-From-Cache, its expiry, Age and Cache-Control; the handler runs in no scope', async () => {
      app = await createApp(adapter, url as string, { detectHeaders: true, cacheControl: true }, RouteOnlyModule);
      const server = app.getHttpServer();
      const cold = await request(server).get('/rs/item/1').expect(200);
      expect(cold.headers['x-from-cache']).toBeUndefined();
      expect(cold.headers['cache-control']).toBeUndefined();
      const warm = await request(server).get('/rs/item/1').expect(200);
      expect(warm.body).toEqual({ id: '1', n: 1 });
      expect(warm.headers['x-from-cache']).toBe(`${RUN}:item:'1'`);
      const left = Number(warm.headers['x-from-cache-expire-in-seconds']);
      expect(left).toBeGreaterThanOrEqual(58);
      expect(left).toBeLessThanOrEqual(60);
      expect(warm.headers['cache-control']).toBe(`private, max-age=${left}`);
      expect(Number(warm.headers['age'])).toBeLessThanOrEqual(2);
      expect(warm.headers['x-from-cache-exc']).toBeUndefined();
      expect(calls.item).toBe(1);
      // The handler ran outside any scope of the async context, and nothing asked for one.
      expect(seen).toEqual([false]);
      expect(detectContext.needed()).toBe(false);
    });

    it('request Cache-Control reaches the route layers: no-cache and no-store recompute, max-age serves young entries', async () => {
      app = await createApp(adapter, url as string, { detectHeaders: true, cacheControl: true }, RouteOnlyModule);
      const server = app.getHttpServer();
      await request(server).get('/rs/item/2').expect(200); // n: 1, stored
      const noCache = await request(server).get('/rs/item/2').set('Cache-Control', 'no-cache').expect(200);
      expect(noCache.body.n).toBe(2);
      expect(noCache.headers['x-from-cache']).toBeUndefined();
      const noStore = await request(server).get('/rs/item/2').set('Cache-Control', 'no-store').expect(200);
      expect(noStore.body.n).toBe(3);
      const young = await request(server).get('/rs/item/2').set('Cache-Control', 'max-age=60').expect(200);
      expect(young.body.n).toBe(2);
      expect(young.headers['x-from-cache']).toBe(`${RUN}:item:'2'`);
      expect(detectContext.needed()).toBe(false);
    });

    it('an error served from cache (cacheErrors) is described like a value', async () => {
      app = await createApp(adapter, url as string, { detectHeaders: true }, RouteOnlyModule);
      const server = app.getHttpServer();
      const cold = await request(server).get('/rs/missing/3').expect(404);
      expect(cold.headers['x-from-cache']).toBeUndefined();
      const warm = await request(server).get('/rs/missing/3').expect(404);
      expect(warm.headers['x-from-cache']).toBe(`${RUN}:missing:'3'`);
      expect(Number(warm.headers['x-from-cache-expire-in-seconds'])).toBeGreaterThanOrEqual(58);
      expect(calls.missing).toBe(1);
      expect(detectContext.needed()).toBe(false);
    });

    it('a decorated provider puts the scope in the async context: its hit deep below the handler is described', async () => {
      app = await createApp(adapter, url as string, { detectHeaders: true }, ProvidedModule);
      expect(detectContext.needed()).toBe(true);
      const server = app.getHttpServer();
      await request(server).get('/rs-provided/4').expect(200);
      const warm = await request(server).get('/rs-provided/4').expect(200);
      expect(warm.headers['x-from-cache']).toBe(`${RUN}:provided:'4'`);
      expect(seen).toEqual([true, true]);
    });

    it('code using CacheDetect puts scopes in the async context from then on', async () => {
      app = await createApp(adapter, url as string, { detectHeaders: true }, RouteOnlyModule);
      const server = app.getHttpServer();
      await request(server).get('/rs/item/5').expect(200);
      expect(seen).toEqual([false]);
      expect(CacheDetect.current()).toBeUndefined();
      expect(detectContext.needed()).toBe(true);
      await request(server).get('/rs/item/6').expect(200);
      expect(seen).toEqual([false, true]);
      const warm = await request(server).get('/rs/item/6').expect(200);
      expect(warm.headers['x-from-cache']).toBe(`${RUN}:item:'6'`);
    });
  });
}
