/**
 * Protective decorators on controllers, over Express and Fastify, on mem:// and Redis db 2 (flushed before
 * each test and after the file): 429 / 503 / 409 mapping and headers, the client-keyed default, a spoofed
 * X-Forwarded-For with and without `trust proxy`, and overriding the filter.
 */
import {
  Catch,
  Controller,
  Get,
  HttpException,
  HttpStatus,
  Query,
  type ArgumentsHost,
  type ExceptionFilter,
  type INestApplication,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  CashewsExceptionFilter,
  CashewsModule,
  CircuitBreaker,
  Locked,
  PerfDegradation,
  RateLimit,
  RateLimitError,
  SlidingRateLimit,
  type MappedCashewsError,
} from '../../lib/index.js';
import { flushRedisDb, redisSkipReason, redisUrl, sleep } from '../support/redis.js';

const DB = 2;

@Controller('p')
class ProtectedController {
  @Get('search')
  @RateLimit({ limit: 3, period: '1m' })
  search(@Query('q') q: string) {
    return { q };
  }

  @Get('sliding')
  @SlidingRateLimit({ limit: 2, period: '1m' })
  sliding() {
    return { ok: true };
  }

  @Get('circuit')
  @CircuitBreaker({ errorsRate: 100, period: '1m', ttl: '30s', minCalls: 2 })
  circuit(@Query('fail') fail?: string) {
    if (fail) throw new Error('upstream down');
    return { ok: true };
  }

  @Get('slow')
  @PerfDegradation({ ttl: '20s', traceSize: 1, condition: (elapsed) => elapsed > 250 })
  async slow(@Query('ms') ms: string) {
    await sleep(Number(ms));
    return { ok: true };
  }

  @Get('locked')
  @Locked({ wait: false, ttl: '5s' })
  async locked() {
    await sleep(600);
    return { ok: true };
  }
}

type Adapter = 'express' | 'fastify';
const cases: Array<{ adapter: Adapter; backend: string; url: string | undefined }> = [];
for (const adapter of ['express', 'fastify'] as const) {
  cases.push({ adapter, backend: 'mem', url: 'mem://' });
  cases.push({ adapter, backend: 'redis', url: redisUrl(DB) });
}

async function createApp(
  adapter: Adapter,
  url: string,
  options: { trustProxy?: boolean; configure?: (app: INestApplication) => void } = {},
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [CashewsModule.forRoot(url)],
    controllers: [ProtectedController],
  }).compile();
  let app: INestApplication;
  if (adapter === 'fastify') {
    app = moduleRef.createNestApplication<NestFastifyApplication>(
      new FastifyAdapter({ trustProxy: options.trustProxy ?? false }),
      { logger: false },
    );
  } else {
    app = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
    if (options.trustProxy) (app as NestExpressApplication).set('trust proxy', true);
  }
  options.configure?.(app);
  await app.init();
  if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return app;
}

for (const c of cases) {
  const title = `protective decorators over HTTP [${c.adapter} / ${c.backend}]`;
  if (!c.url) {
    describe.skip(`${title} [${redisSkipReason()}]`, () => undefined);
    continue;
  }
  const url = c.url;
  describe(title, () => {
    let app: INestApplication | undefined;
    const redis = url.startsWith('redis');
    beforeEach(() => (redis ? flushRedisDb(DB) : undefined));
    afterEach(async () => {
      await app?.close();
      app = undefined;
    });
    afterAll(() => (redis ? flushRedisDb(DB) : undefined));

    it('@RateLimit: X-RateLimit-* on allowed responses, then 429 with Retry-After; the query string does not matter', async () => {
      app = await createApp(c.adapter, url);
      const server = app.getHttpServer();
      for (let i = 0; i < 3; i++) {
        const res = await request(server).get(`/p/search?q=${i}`).expect(200);
        expect(res.headers['x-ratelimit-limit']).toBe('3');
        expect(res.headers['x-ratelimit-remaining']).toBe(String(2 - i));
        const reset = Number(res.headers['x-ratelimit-reset']);
        expect(reset).toBeGreaterThan(0);
        expect(reset).toBeLessThanOrEqual(60);
      }
      const res = await request(server).get('/p/search?q=other').expect(429);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(res.headers['x-ratelimit-limit']).toBe('3');
      expect(res.headers['x-ratelimit-remaining']).toBe('0');
      expect(res.headers['x-ratelimit-reset']).toBe(res.headers['retry-after']);
      expect(res.body).toMatchObject({ statusCode: 429, error: 'RateLimitError' });
    });

    it('@SlidingRateLimit answers 429 over the limit', async () => {
      app = await createApp(c.adapter, url);
      const server = app.getHttpServer();
      await request(server).get('/p/sliding').expect(200);
      await request(server).get('/p/sliding').expect(200);
      const res = await request(server).get('/p/sliding').expect(429);
      expect(res.headers['retry-after']).toBeDefined();
    });

    it('a spoofed X-Forwarded-For does not get around the limit without trust proxy', async () => {
      app = await createApp(c.adapter, url);
      const server = app.getHttpServer();
      for (let i = 0; i < 3; i++) {
        await request(server).get('/p/search').set('X-Forwarded-For', `10.0.0.${i}`).expect(200);
      }
      await request(server).get('/p/search').set('X-Forwarded-For', '10.9.9.9').expect(429);
    });

    it('with trust proxy, X-Forwarded-For is the client: each client has its own limit', async () => {
      app = await createApp(c.adapter, url, { trustProxy: true });
      const server = app.getHttpServer();
      for (let i = 0; i < 3; i++) await request(server).get('/p/search').set('X-Forwarded-For', '10.0.0.1').expect(200);
      await request(server).get('/p/search').set('X-Forwarded-For', '10.0.0.1').expect(429);
      const other = await request(server).get('/p/search').set('X-Forwarded-For', '10.0.0.2').expect(200);
      expect(other.headers['x-ratelimit-remaining']).toBe('2');
    });

    it('@CircuitBreaker: open circuit answers 503 with Retry-After, without running the handler', async () => {
      app = await createApp(c.adapter, url);
      const server = app.getHttpServer();
      await request(server).get('/p/circuit?fail=1').expect(500);
      await request(server).get('/p/circuit?fail=1').expect(500);
      const res = await request(server).get('/p/circuit').expect(503);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(25);
      expect(res.body).toMatchObject({ statusCode: 503, error: 'CircuitOpenError' });
    });

    it('@PerfDegradation: after a slow call, 503 with Retry-After', async () => {
      app = await createApp(c.adapter, url);
      const server = app.getHttpServer();
      await request(server).get('/p/slow?ms=1').expect(200);
      await request(server).get('/p/slow?ms=500').expect(200);
      const res = await request(server).get('/p/slow?ms=1').expect(503);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(15);
      expect(res.body.error).toBe('PerfDegradationError');
    });

    it('LockedError maps to 409', async () => {
      app = await createApp(c.adapter, url);
      const server = app.getHttpServer();
      const [a, b] = await Promise.all([
        request(server).get('/p/locked'),
        sleep(200).then(() => request(server).get('/p/locked')), // the first holds the lock for 600 ms
      ]);
      expect([a.status, b.status]).toEqual([200, 409]);
    });

    it('the mapping is overridable: a subclass registered with useGlobalFilters takes precedence', async () => {
      class TeapotFilter extends CashewsExceptionFilter {
        protected override status(error: MappedCashewsError): number {
          return error instanceof RateLimitError ? HttpStatus.I_AM_A_TEAPOT : super.status(error);
        }
      }
      app = await createApp(c.adapter, url, {
        configure: (a) => a.useGlobalFilters(new TeapotFilter(a.get(HttpAdapterHost))),
      });
      const server = app.getHttpServer();
      for (let i = 0; i < 3; i++) await request(server).get('/p/search').expect(200);
      const res = await request(server).get('/p/search').expect(418);
      expect(res.headers['retry-after']).toBeDefined();
    });

    // The catch-all filter of Nest's documentation (@Catch(), useGlobalFilters) takes precedence and answered 500
    // for these errors (they are no HttpException). It can hand them to the library's mapping.
    it('a catch-all filter of the application hands the errors on with CashewsExceptionFilter.handles', async () => {
      @Catch()
      class AllExceptionsFilter implements ExceptionFilter {
        private readonly cashews: CashewsExceptionFilter;
        constructor(private readonly adapterHost: HttpAdapterHost) {
          this.cashews = new CashewsExceptionFilter(adapterHost);
        }
        catch(exception: unknown, host: ArgumentsHost): unknown {
          if (CashewsExceptionFilter.handles(exception)) return this.cashews.catch(exception, host);
          const status = exception instanceof HttpException ? exception.getStatus() : 500;
          this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), { statusCode: status }, status);
          return undefined;
        }
      }
      expect(CashewsExceptionFilter.handles(new Error('x'))).toBe(false);
      app = await createApp(c.adapter, url, {
        configure: (a) => a.useGlobalFilters(new AllExceptionsFilter(a.get(HttpAdapterHost))),
      });
      const server = app.getHttpServer();
      for (let i = 0; i < 3; i++) await request(server).get('/p/search').expect(200);
      const res = await request(server).get('/p/search').expect(429);
      expect(res.headers['retry-after']).toBeDefined();
    });
  });
}
