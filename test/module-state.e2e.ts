/**
 * Module state through DI (`CashewsRegistry`): `app.close()` waits for background refreshes in flight, bounded by
 * `shutdownTimeout`; the global interceptors and filter can be switched off and mounted per controller (Express and
 * Fastify, mem:// and Redis db 10 under `ms:`); two applications in one process keep their options apart.
 */
import { readFileSync } from 'node:fs';
import {
  Controller,
  Get,
  Inject,
  Injectable,
  Logger,
  UseFilters,
  UseInterceptors,
  type DynamicModule,
  type INestApplication,
  type Type,
} from '@nestjs/common';
import { jest } from '@jest/globals';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  backgroundSettled,
  Cache,
  CacheHeadersInterceptor,
  CacheManager,
  CacheService,
  CashewsConfigError,
  CashewsExceptionFilter,
  CashewsInterceptor,
  CashewsModule,
  Early,
  RateLimit,
} from '../lib/index.js';
import { allCases, clearPrefix, Counter, describeCases, sleep, type Case } from './http/harness.js';
import { redisUrl } from './support/redis.js';

const PREFIX = 'ms';
const calls = new Counter();
/**
 * Distinguishes the rate-limit buckets of each application: Redis cases share a database, and protection state is
 * not under the key prefix `clearPrefix` removes.
 */
let run = '';

async function startApp(
  c: Pick<Case, 'adapter' | 'url'>,
  module: DynamicModule,
  controllers: Type<unknown>[] = [],
  providers: Type<unknown>[] = [],
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [module], controllers, providers }).compile();
  const app =
    c.adapter === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication({ logger: false });
  await app.init();
  if (c.adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return app;
}

/** Values the instance stored, recorded once the backend has answered (the instance and its backend stay real). */
/** Values written to the instance once the write has completed (a command hook sees decorated writes too). */
function recordSets(cache: CacheService): unknown[] {
  const stored: unknown[] = [];
  cache.addHook({
    name: 'recordSets',
    async handle(call, next) {
      const result = await next(call);
      if (call.command === 'set') stored.push(call.args[1]);
      return result;
    },
  });
  return stored;
}

@Injectable()
class SlowFeed {
  calls = 0;
  /** The background refresh (second execution) waits for this, or 600 ms when unset. */
  gate?: Promise<void>;

  @Early({ ttl: '1m', earlyTtl: '200ms', key: 'feed', prefix: PREFIX })
  async latest() {
    const n = ++this.calls;
    if (n > 1) await (this.gate ?? sleep(600));
    return `feed#${n}`;
  }
}

const backends = (
  [
    ['mem', 'mem://'],
    ['redis', redisUrl(10)],
  ] as Array<[string, string | undefined]>
).filter(([, url]) => url !== undefined);

describe.each(backends)('app.close() and background refreshes [%s]', (_backend, url) => {
  beforeEach(() => clearPrefix(url, PREFIX));

  it('waits for a refresh in flight: its value is stored before close() resolves', async () => {
    const app = await startApp({ adapter: 'express', url }, CashewsModule.forRoot(url), [], [SlowFeed]);
    const feed = app.get(SlowFeed);
    const stored = recordSets(app.get(CacheService));
    await expect(feed.latest()).resolves.toBe('feed#1');
    await sleep(400); // older than earlyTtl: the next call refreshes in the background
    await expect(feed.latest()).resolves.toBe('feed#1');
    await app.close();
    expect(feed.calls).toBe(2);
    expect(stored).toContainEqual(expect.objectContaining({ v: 'feed#2' }));
  });

  it('waits for a cache-manager refreshThreshold recompute in flight', async () => {
    const app = await startApp({ adapter: 'express', url }, CashewsModule.forRoot(url, { cacheManagerCompat: true }));
    const manager = app.get(CacheManager);
    const stored = recordSets(app.get(CacheService));
    await manager.set(`${PREFIX}:cm`, 'v1', 60_000);
    // Less than the threshold left: served, and recomputed in the background.
    const slow = async () => {
      await sleep(600);
      return 'v2';
    };
    await expect(manager.wrap(`${PREFIX}:cm`, slow, 60_000, 120_000)).resolves.toBe('v1');
    await app.close();
    expect(stored).toEqual(['v1', 'v2']);
  });

  it('is bounded by shutdownTimeout: a refresh that never ends is abandoned and logged', async () => {
    const app = await startApp(
      { adapter: 'express', url },
      CashewsModule.forRoot(url, { shutdownTimeout: 300 }),
      [],
      [SlowFeed],
    );
    const feed = app.get(SlowFeed);
    // Released as a failure once the test is over, so the abandoned refresh stores nothing into the closed instance.
    let release!: () => void;
    feed.gate = new Promise((_resolve, reject) => (release = () => reject(new Error('released after the test'))));
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      await feed.latest();
      await sleep(400);
      await feed.latest();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const hung = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still open'), 4000)));
      const outcome = await Promise.race([app.close().then(() => 'closed'), hung]);
      clearTimeout(timer);
      expect(outcome).toBe('closed');
      const messages = warn.mock.calls.map(([message]) => String(message));
      expect(messages).toContainEqual(expect.stringMatching(/abandoned: SlowFeed\.latest.*shutdownTimeout/));
    } finally {
      release();
      await backgroundSettled();
      warn.mockRestore();
    }
  });
});

@Injectable()
class Quota {
  @RateLimit({ limit: 1, period: '1m', key: 'quota:{0}', prefix: PREFIX })
  take(who: string) {
    return { ok: who };
  }
}

@Controller('mounted')
@UseInterceptors(CacheHeadersInterceptor, CashewsInterceptor)
@UseFilters(CashewsExceptionFilter)
class MountedController {
  constructor(@Inject(Quota) private readonly quota: Quota) {}

  @Get('n')
  @Cache({ ttl: '1m', prefix: PREFIX })
  n() {
    return { n: calls.hit('mounted') };
  }

  @Get('quota')
  take() {
    return this.quota.take(`${run}-mounted`);
  }
}

@Controller('plain')
class PlainController {
  constructor(@Inject(Quota) private readonly quota: Quota) {}

  @Get('n')
  @Cache({ ttl: '1m', prefix: PREFIX })
  n() {
    return { n: calls.hit('plain') };
  }

  @Get('quota')
  take() {
    return this.quota.take(`${run}-plain`);
  }
}

describeCases('globalInterceptors: false, globalFilter: false, mounted per controller', allCases(), (c) => {
  let app: INestApplication;

  beforeAll(async () => {
    await clearPrefix(c.url, PREFIX);
    calls.reset();
    run = `${c.adapter}-${c.backend}-${process.pid}-${Date.now()}`;
    const module = CashewsModule.forRoot(c.url, {
      globalInterceptors: false,
      globalFilter: false,
      detectHeaders: true,
    });
    app = await startApp(c, module, [MountedController, PlainController], [Quota]);
  });

  afterAll(() => app?.close());

  it('@UseInterceptors(CacheHeadersInterceptor, CashewsInterceptor) caches that controller and sends its headers', async () => {
    const first = await request(app.getHttpServer()).get('/mounted/n').expect(200);
    const second = await request(app.getHttpServer()).get('/mounted/n').expect(200);
    expect([first.body, second.body]).toEqual([{ n: 1 }, { n: 1 }]);
    expect(first.headers['x-from-cache']).toBeUndefined();
    expect(second.headers['x-from-cache']).toMatch(/^ms:MountedController:n:/);
  });

  it('a controller without them is cached too: each decorator attaches the interceptor to its own method', async () => {
    const first = await request(app.getHttpServer()).get('/plain/n').expect(200);
    const second = await request(app.getHttpServer()).get('/plain/n').expect(200);
    expect([first.body, second.body]).toEqual([{ n: 1 }, { n: 1 }]);
    expect(second.headers['x-from-cache']).toMatch(/^ms:PlainController:n:/);
  });

  it('@UseFilters(CashewsExceptionFilter) maps RateLimitError to 429 on that controller only', async () => {
    await request(app.getHttpServer()).get('/mounted/quota').expect(200);
    const limited = await request(app.getHttpServer()).get('/mounted/quota').expect(429);
    expect(limited.headers['retry-after']).toMatch(/^\d+$/);
    await request(app.getHttpServer()).get('/plain/quota').expect(200);
    await request(app.getHttpServer()).get('/plain/quota').expect(500);
  });
});

describe('@UseInterceptors(CashewsInterceptor) with the globals on (the default)', () => {
  it('resolves its dependencies from any module, and caches once', async () => {
    calls.reset();
    run = `globals-on-${process.pid}-${Date.now()}`;
    const app = await startApp(
      { adapter: 'express', url: 'mem://' },
      CashewsModule.forRoot('mem://'),
      [MountedController],
      [Quota],
    );
    try {
      const bodies = [];
      for (let i = 0; i < 2; i++) bodies.push((await request(app.getHttpServer()).get('/mounted/n').expect(200)).body);
      expect(bodies).toEqual([{ n: 1 }, { n: 1 }]);
      await request(app.getHttpServer()).get('/mounted/quota').expect(200);
      await request(app.getHttpServer()).get('/mounted/quota').expect(429);
    } finally {
      await app.close();
    }
  });
});

describe('module options of the global interceptors / filter and shutdown', () => {
  it('refuses a non-boolean globalInterceptors or globalFilter, naming the option and the fix', () => {
    expect(() => CashewsModule.forRoot('mem://', { globalFilter: 'no' as unknown as boolean })).toThrow(
      CashewsConfigError,
    );
    expect(() => CashewsModule.forRoot('mem://', { globalInterceptors: 0 as unknown as boolean })).toThrow(
      /globalInterceptors: 0\. Accepted: true .* or false .*@UseInterceptors\(CacheHeadersInterceptor\)/,
    );
  });

  it('refuses a non-boolean directRoutes, naming the option and both answers', () => {
    expect(() => CashewsModule.forRoot('mem://', { directRoutes: 'off' as unknown as boolean })).toThrow(
      /directRoutes: "off"\. Accepted: true .* or false .*interceptor/,
    );
  });

  it('refuses a non-boolean cacheManagerCompat or isGlobal when forRoot is called', () => {
    // 'yes' turned the cache-manager providers on and 'false' would have too; a truthy isGlobal made the module global.
    expect(() => CashewsModule.forRoot('mem://', { cacheManagerCompat: 'false' as unknown as boolean })).toThrow(
      /Invalid CashewsModule option cacheManagerCompat: "false"\. Accepted: true .* or false/,
    );
    expect(() => CashewsModule.forRoot('mem://', { isGlobal: 1 as unknown as boolean })).toThrow(
      /Invalid CashewsModule option isGlobal: 1\. Accepted: true .* or false/,
    );
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    // 'false' from an environment variable switched Cache-Control handling on; 'yes' left detectHeaders off.
    [
      'cacheControl: "false"',
      { cacheControl: 'false' },
      /cacheControl: "false"\. Accepted: true, false or \{ public: true \}/,
    ],
    ['cacheControl: { public: "yes" }', { cacheControl: { public: 'yes' } }, /cacheControl: \{"public":"yes"\}/],
    ['cacheControl: { pubic: true }', { cacheControl: { pubic: true } }, /cacheControl: \{"pubic":true\}/],
    ['detectHeaders: "yes"', { detectHeaders: 'yes' }, /detectHeaders: "yes"\. Accepted: true or false/],
    ['clearSiteData: 1', { clearSiteData: 1 }, /clearSiteData: 1\. Accepted: true or false/],
  ])('refuses an HTTP option %s at bootstrap', async (_label, options, message) => {
    await expect(
      Test.createTestingModule({ imports: [CashewsModule.forRoot('mem://', options as never)] }).compile(),
    ).rejects.toThrow(message);
  });

  it('refuses forRoots of one application that disagree on directRoutes', async () => {
    const module = {
      module: class TwoRouteModes {},
      imports: [
        CashewsModule.forRoot('mem://', { directRoutes: false }),
        CashewsModule.forRoot('mem://', { name: 'sessions' }),
      ],
    };
    await expect(startApp({ adapter: 'express', url: 'mem://' }, module)).rejects.toThrow(
      /directRoutes differs between .*; it applies to the whole application/,
    );
  });

  it('refuses an invalid shutdownTimeout at bootstrap', async () => {
    await expect(
      startApp({ adapter: 'express', url: 'mem://' }, CashewsModule.forRoot('mem://', { shutdownTimeout: 'soon' })),
    ).rejects.toThrow(/shutdownTimeout/);
  });

  it('refuses a shutdownTimeout longer than a timer waits (Node would fire it after 1 ms)', async () => {
    await expect(
      startApp({ adapter: 'express', url: 'mem://' }, CashewsModule.forRoot('mem://', { shutdownTimeout: '30d' })),
    ).rejects.toThrow(/"shutdownTimeout": 2592000000 ms .* at most 2147483647 ms/);
  });

  it('refuses forRoots of one application that disagree on globalFilter', async () => {
    const module = {
      module: class TwoInstances {},
      imports: [
        CashewsModule.forRoot('mem://', { globalFilter: false }),
        CashewsModule.forRoot('mem://', { name: 'sessions' }),
      ],
    };
    await expect(startApp({ adapter: 'express', url: 'mem://' }, module)).rejects.toThrow(
      /globalFilter differs between .*; it applies to the whole application/,
    );
  });
});

@Controller('two')
class TwoAppsController {
  @Get()
  @Cache({ ttl: '1m', prefix: PREFIX })
  get() {
    return { n: calls.hit('two') };
  }
}

describe('two applications in one process', () => {
  it("do not see each other's HTTP options", async () => {
    calls.reset();
    const withHeaders = await startApp(
      { adapter: 'express', url: 'mem://' },
      CashewsModule.forRoot('mem://', { detectHeaders: true }),
      [TwoAppsController],
    );
    const without = await startApp({ adapter: 'express', url: 'mem://' }, CashewsModule.forRoot('mem://'), [
      TwoAppsController,
    ]);
    try {
      for (const app of [withHeaders, without]) await request(app.getHttpServer()).get('/two').expect(200);
      const shown = await request(withHeaders.getHttpServer()).get('/two').expect(200);
      const hidden = await request(without.getHttpServer()).get('/two').expect(200);
      expect(shown.headers['x-from-cache']).toMatch(/^ms:TwoAppsController:get:/);
      expect(hidden.headers['x-from-cache']).toBeUndefined();
      expect(hidden.body).toEqual({ n: 2 }); // served from its own cache: the handler ran once per application
    } finally {
      await withHeaders.close();
      await without.close();
    }
  });

  it('module-level maps hold no per-application state in the module wiring', () => {
    const files = [
      'lib/cashews.module.ts',
      'lib/cashews-core.module.ts',
      'lib/cashews.registry.ts',
      'lib/cache-resolver.ts',
      'lib/detect/http-options.ts',
      'lib/stats/stats-options.ts',
    ];
    const moduleLevel = /^(?:export )?(?:const|let|var) \w+(?::[^=]+)? = new (?:Weak)?(?:Map|Set)\b/m;
    const offenders = files.filter((file) =>
      moduleLevel.test(readFileSync(new URL(`../${file}`, import.meta.url), 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});
