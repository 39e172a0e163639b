/**
 * Caching errors over HTTP (issue #12): a handler's `NotFoundException` (or a 410, or an HttpException of its own),
 * stored by `cacheErrors`, answers the same status and body on a hit without running the handler, and the response says it came from the cache
 * (`X-From-Cache`, with `detectHeaders: true`). Every storing decorator that stores errors, on Express and Fastify,
 * on mem:// and Redis (db 10, keys under `he:`).
 */
import {
  Controller,
  Get,
  GoneException,
  HttpException,
  Injectable,
  NotFoundException,
  Param,
  type INestApplication,
} from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  backgroundSettled,
  Cache,
  CacheableClass,
  CashewsModule,
  Early,
  HitCache,
  registerCacheableClass,
  Soft,
} from '../../lib/index.js';
import { allCases, clearPrefix, Counter, describeCases, type Case } from './harness.js';

const PREFIX = 'he';
const calls = new Counter();

// Nest's exceptions are not ours to decorate: registered by hand, before the decorators below name them.
registerCacheableClass(NotFoundException);
registerCacheableClass(GoneException);

/** An HttpException of the application's own, with a status and a body of its own. */
@CacheableClass({ name: 'HeQuotaExceeded' })
class HeQuotaExceeded extends HttpException {
  constructor(readonly plan: string) {
    super({ statusCode: 402, reason: 'quota exceeded', plan }, 402);
  }
}

/** A service-level "404 from upstream", mapped to a 404 response by the handler that calls the service. */
@CacheableClass({ name: 'HeUnknownProductError' })
class HeUnknownProductError extends Error {
  constructor(readonly productId: string) {
    super(`product ${productId} does not exist`);
  }
}

function lookup(name: string, id: string): { id: string; n: number } {
  const n = calls.hit(name);
  if (id.startsWith('missing')) throw new NotFoundException(`no item ${id}`);
  if (id === 'broken') throw new Error('not a 404');
  return { id, n };
}

@Injectable()
class HeCatalogue {
  @Cache({ ttl: '1m', prefix: PREFIX, cacheErrors: [HeUnknownProductError], onlyErrors: true })
  async product(id: string): Promise<{ id: string }> {
    calls.hit('service');
    if (id !== '1') throw new HeUnknownProductError(id);
    return { id };
  }
}

@Controller('he')
class HeController {
  constructor(private readonly catalogue: HeCatalogue) {}

  @Get('cache/:id')
  @Cache({ ttl: '1m', prefix: PREFIX, cacheErrors: [NotFoundException] })
  cache(@Param('id') id: string) {
    return lookup('cache', id);
  }

  @Get('hits/:id')
  @HitCache({ ttl: '1m', cacheHits: 5, prefix: PREFIX, cacheErrors: [NotFoundException] })
  hits(@Param('id') id: string) {
    return lookup('hits', id);
  }

  @Get('early/:id')
  @Early({ ttl: '1m', prefix: PREFIX, cacheErrors: [NotFoundException], errorTtl: '30s' })
  early(@Param('id') id: string) {
    return lookup('early', id);
  }

  @Get('soft/:id')
  @Soft({ ttl: '1m', prefix: PREFIX, cacheErrors: [NotFoundException], onlyErrors: true })
  soft(@Param('id') id: string) {
    return lookup('soft', id);
  }

  /** Other statuses than 404: a 410 of Nest's and a 402 of the application's own, both stored. */
  @Get('status/:id')
  @Cache({ ttl: '1m', prefix: PREFIX, cacheErrors: [GoneException, HeQuotaExceeded] })
  status(@Param('id') id: string) {
    calls.hit('status');
    if (id === 'gone') throw new GoneException(`item ${id} was removed`);
    throw new HeQuotaExceeded(id);
  }

  /** The service stores its own error; the handler maps it, so the 404 sent is a fresh one each time. */
  @Get('product/:id')
  async product(@Param('id') id: string) {
    try {
      return await this.catalogue.product(id);
    } catch (error) {
      if (error instanceof HeUnknownProductError) throw new NotFoundException(error.message);
      throw error;
    }
  }
}

async function createApp(c: Case): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [CashewsModule.forRoot(c.url ?? 'mem://', { detectHeaders: true })],
    controllers: [HeController],
    providers: [HeCatalogue],
  }).compile();
  const app =
    c.adapter === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication({ logger: false });
  await app.init();
  if (c.adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return app;
}

describeCases('cached errors over HTTP', allCases(), (c) => {
  let app: INestApplication;

  beforeEach(async () => {
    calls.reset();
    await clearPrefix(c.url, PREFIX);
    app = await createApp(c);
  });
  afterEach(async () => {
    await backgroundSettled();
    await app.close();
  });

  it.each(['cache', 'hits', 'early', 'soft'])(
    '%s: the first 404 comes from the handler, the second from the cache, with X-From-Cache',
    async (route) => {
      const server = app.getHttpServer();
      const body = { statusCode: 404, error: 'Not Found', message: 'no item missing-7' };
      const first = await request(server).get(`/he/${route}/missing-7`).expect(404);
      expect(first.body).toEqual(body);
      expect(first.headers['x-from-cache']).toBeUndefined();
      const second = await request(server).get(`/he/${route}/missing-7`).expect(404);
      expect(second.body).toEqual(body);
      expect(second.headers['x-from-cache']).toMatch(new RegExp(`^${PREFIX}:HeController:${route}:`));
      expect(Number(second.headers['x-from-cache-expire-in-seconds'])).toBeGreaterThan(0);
      expect(calls.get(route)).toBe(1);
    },
  );

  it.each([
    ['a 410 (GoneException)', 'gone', 410, { statusCode: 410, error: 'Gone', message: 'item gone was removed' }],
    ['a 402 of its own class', 'basic', 402, { statusCode: 402, reason: 'quota exceeded', plan: 'basic' }],
  ])('%s answers the same status and body from the cache', async (_name, id, status, expected) => {
    const server = app.getHttpServer();
    const first = await request(server).get(`/he/status/${id}`).expect(status);
    expect(first.body).toEqual(expected);
    const second = await request(server).get(`/he/status/${id}`).expect(status);
    expect(second.body).toEqual(expected);
    expect(second.headers['x-from-cache']).toMatch(new RegExp(`^${PREFIX}:HeController:status:`));
    expect(calls.get('status')).toBe(1);
  });

  it('an error outside cacheErrors is neither stored nor described as coming from the cache', async () => {
    const server = app.getHttpServer();
    for (let i = 0; i < 2; i++) {
      const response = await request(server).get('/he/cache/broken').expect(500);
      expect(response.headers['x-from-cache']).toBeUndefined();
    }
    expect(calls.get('cache')).toBe(2);
  });

  it('a success is still stored next to the errors, and served with X-From-Cache', async () => {
    const server = app.getHttpServer();
    expect((await request(server).get('/he/cache/1').expect(200)).body).toEqual({ id: '1', n: 1 });
    const second = await request(server).get('/he/cache/1').expect(200);
    expect(second.body).toEqual({ id: '1', n: 1 });
    expect(second.headers['x-from-cache']).toBeDefined();
  });

  it("a service's stored error, mapped to a 404 by the handler, spares the upstream; the 404 is a fresh one", async () => {
    const server = app.getHttpServer();
    await request(server).get('/he/product/9').expect(404);
    const second = await request(server).get('/he/product/9').expect(404);
    expect(second.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'product 9 does not exist' });
    expect(calls.get('service')).toBe(1);
    // onlyErrors: the product that exists is looked up every time.
    await request(server).get('/he/product/1').expect(200);
    await request(server).get('/he/product/1').expect(200);
    expect(calls.get('service')).toBe(3);
  });
});
