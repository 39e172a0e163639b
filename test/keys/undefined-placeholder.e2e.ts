/**
 * Issue #9, item 13: a key placeholder that renders `undefined` (`'export:{req.user.id}'` without a user) never
 * silently puts every such caller in one entry or one bucket. Storing decorators (and circuit breakers) run the
 * call without themselves, a lock and a provider rate limit refuse it with KeyPlaceholderError, a controller
 * rate limit counts the client instead; each case is logged once. `{name?}` opts into sharing.
 * Providers on mem:// and Redis db 8 (names start with "Ku"); controllers over Express and Fastify.
 */
import { randomInt } from 'node:crypto';
import { jest } from '@jest/globals';
import {
  Controller,
  Get,
  Injectable,
  Logger,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  Cache,
  CashewsModule,
  CircuitBreaker,
  Failover,
  KeyPlaceholderError,
  Locked,
  RateLimit,
  RateLimitError,
  type CacheService,
} from '../../lib/index.js';
import { clearPrefix } from '../http/harness.js';
import { redisUrl } from '../support/redis.js';
import { cleanup, closeApps, describeBackends, keysOf, rejection, startApp } from '../support/strategy-fixtures.js';

const TAG = 'Ku';
type User = { id?: string };

@Injectable()
class KuExports {
  calls = 0;
  lastUser?: string;

  @Cache({ ttl: '10s', key: 'Ku:export:{user.id}' })
  async export(user: User) {
    return { user: user.id ?? null, n: ++this.calls };
  }

  @Failover({ ttl: '10s', key: 'Ku:failover:{user.id}' })
  async failover(user: User) {
    return { user: user.id ?? null, n: ++this.calls };
  }

  @Cache({ ttl: '10s', key: 'Ku:page:{page?}' })
  async page(page?: number) {
    return { page: page ?? null, n: ++this.calls };
  }

  @CircuitBreaker({ errorsRate: 50, period: '1m', ttl: '1m', key: 'Ku:circuit:{tenant}' })
  async guarded(tenant?: string) {
    return { tenant: tenant ?? null, n: ++this.calls };
  }

  @Locked({ ttl: '10s', key: 'Ku:lock:{user.id}' })
  async locked(user: User) {
    this.lastUser = user.id;
    return ++this.calls;
  }

  @RateLimit({ limit: 1, period: '1m', key: 'Ku:limit:{user.id}' })
  async limited(user: User) {
    this.lastUser = user.id;
    return ++this.calls;
  }
}

/** Messages the library logged as warnings (the apps run with `logger: false`, so the spy sees them). */
function warnings(): { messages: () => string[]; restore: () => void } {
  const spy = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  return {
    messages: () => spy.mock.calls.map((call) => String(call[0])),
    restore: () => spy.mockRestore(),
  };
}

describeBackends('a placeholder rendering undefined on providers', ({ url }) => {
  let cache: CacheService;
  let service: KuExports;
  let logged: ReturnType<typeof warnings>;
  const runId = String(randomInt(1e9));

  beforeEach(async () => {
    logged = warnings();
    await cleanup(url, TAG);
    const app = await startApp(url, [KuExports]);
    cache = app.cache;
    service = app.app.get(KuExports);
  });

  afterEach(async () => {
    logged.restore();
    await closeApps();
    await cleanup(url, TAG);
  });

  it('a storing decorator runs the call and stores nothing; logged once, naming the placeholder', async () => {
    expect(await service.export({})).toEqual({ user: null, n: 1 });
    expect(await service.export({})).toEqual({ user: null, n: 2 });
    expect(await service.failover({})).toEqual({ user: null, n: 3 });
    expect(await keysOf(cache, 'Ku:*')).toEqual([]);
    // With a value the entry is stored and served as usual.
    expect(await service.export({ id: 'ann' })).toEqual({ user: 'ann', n: 4 });
    expect(await service.export({ id: 'ann' })).toEqual({ user: 'ann', n: 4 });
    expect(await keysOf(cache, 'Ku:*')).toEqual(['Ku:export:ann']);
    const about = logged.messages().filter((message) => message.includes('{user.id}'));
    expect(about).toHaveLength(2); // once for @Cache, once for @Failover
    expect(about[0]).toMatch(/@cache on KuExports.*"Ku:export:\{user\.id\}".*rendered undefined.*\{user\.id\?\}/);
  });

  it('an optional placeholder {page?} lets such calls share one entry', async () => {
    expect(await service.page()).toEqual({ page: null, n: 1 });
    expect(await service.page()).toEqual({ page: null, n: 1 });
    expect(await service.page(2)).toEqual({ page: 2, n: 2 });
    expect(await keysOf(cache, 'Ku:page:*')).toEqual(['Ku:page:%undefined', 'Ku:page:2']);
  });

  it('a circuit breaker steps aside for the call', async () => {
    expect(await service.guarded()).toEqual({ tenant: null, n: 1 });
    expect(await service.guarded(`t${runId}`)).toEqual({ tenant: `t${runId}`, n: 2 });
  });

  it('a lock and a provider rate limit refuse the call with KeyPlaceholderError', async () => {
    const lockError = await rejection(service.locked({}));
    expect(lockError).toBeInstanceOf(KeyPlaceholderError);
    expect((lockError as KeyPlaceholderError).placeholder).toBe('user.id');
    expect(await rejection(service.limited({}))).toBeInstanceOf(KeyPlaceholderError);
    expect(await rejection(service.limited({}))).toBeInstanceOf(KeyPlaceholderError);
    expect(service.calls).toBe(0);
    // Named callers are limited as usual.
    expect(await service.limited({ id: `u${runId}` })).toBe(1);
    expect(await rejection(service.limited({ id: `u${runId}` }))).toBeInstanceOf(RateLimitError);
    expect(await service.locked({ id: `u${runId}` })).toBe(2);
  });
});

type UserRequest = { headers: Record<string, string | undefined>; user?: { id: string } };

/** Authenticates from `x-user` when present, as an optional Passport guard does. */
@Injectable()
class OptionalUserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<UserRequest>();
    const id = req.headers['x-user'];
    if (id) req.user = { id };
    return true;
  }
}

const httpCalls = { export: 0 };

@Controller('ku')
@UseGuards(OptionalUserGuard)
class KuController {
  @Get('export')
  @Cache({ ttl: '1m', key: 'hu:export:{req.user.id}' })
  export() {
    return { n: ++httpCalls.export };
  }

  @Get('limited')
  @RateLimit({ limit: 1, period: '1m', key: 'hu:limited:{req.user.id}' })
  limited() {
    return { ok: true };
  }
}

type Adapter = 'express' | 'fastify';

async function createApp(adapter: Adapter, url: string): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [CashewsModule.forRoot(url)],
    controllers: [KuController],
  }).compile();
  let app: INestApplication;
  if (adapter === 'fastify') {
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter({ trustProxy: true }), {
      logger: false,
    });
  } else {
    app = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
    (app as NestExpressApplication).set('trust proxy', true);
  }
  await app.init();
  if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return app;
}

for (const adapter of ['express', 'fastify'] as const) {
  for (const [backend, url] of [
    ['mem', 'mem://'],
    ['redis', redisUrl(10)],
  ] as const) {
    const suite = url ? describe : describe.skip;
    suite(`a placeholder rendering undefined on controllers [${adapter} / ${backend}]`, () => {
      let app: INestApplication | undefined;
      let logged: ReturnType<typeof warnings>;
      // Fresh users and client addresses per run: rate-limit state in Redis outlives the app.
      const run = randomInt(250);
      const client = (n: number) => `10.${run}.${randomInt(250)}.${n}`;

      beforeEach(async () => {
        logged = warnings();
        httpCalls.export = 0;
        app = await createApp(adapter, url as string);
      });

      afterEach(async () => {
        logged.restore();
        await app?.close();
        app = undefined;
      });

      afterAll(() => clearPrefix(url, 'hu'));

      it('@Cache without a user runs the handler for every anonymous request and stores nothing', async () => {
        const server = app!.getHttpServer();
        expect((await request(server).get('/ku/export').expect(200)).body).toEqual({ n: 1 });
        expect((await request(server).get('/ku/export').expect(200)).body).toEqual({ n: 2 });
        const user = `alice${run}`;
        expect((await request(server).get('/ku/export').set('x-user', user).expect(200)).body).toEqual({ n: 3 });
        expect((await request(server).get('/ku/export').set('x-user', user).expect(200)).body).toEqual({ n: 3 });
        expect(logged.messages().filter((message) => message.includes('{req.user.id}'))).toHaveLength(1);
      });

      it('@RateLimit without a user counts each client instead of one bucket for all anonymous callers', async () => {
        const server = app!.getHttpServer();
        const first = client(1);
        const second = client(2);
        await request(server).get('/ku/limited').set('X-Forwarded-For', first).expect(200);
        await request(server).get('/ku/limited').set('X-Forwarded-For', first).expect(429);
        await request(server).get('/ku/limited').set('X-Forwarded-For', second).expect(200);
        await request(server).get('/ku/limited').set('X-Forwarded-For', second).expect(429);
        // A user has its own bucket, whatever the address.
        const user = `bob${run}-${randomInt(1e9)}`;
        await request(server).get('/ku/limited').set('X-Forwarded-For', first).set('x-user', user).expect(200);
        await request(server).get('/ku/limited').set('X-Forwarded-For', second).set('x-user', user).expect(429);
        const about = logged.messages().filter((message) => message.includes('{req.user.id}'));
        expect(about).toHaveLength(1);
        expect(about[0]).toMatch(/counted per client/);
      });
    });
  }
}
