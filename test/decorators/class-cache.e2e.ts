/**
 * Issue #11: `@Cache()` on a controller class caches every GET/HEAD handler of it (like
 * `@UseInterceptors(CacheInterceptor)` on a class); `@NoCache()` opts a handler out, a handler's own `@Cache`
 * overrides the class's. Key functions over HTTP read the handler's route arguments and the request.
 * Express and Fastify, over mem:// and Redis db 10 (keys under "cc:").
 */
import { Body, Controller, Get, Headers, Injectable, Logger, Param, Post, Query, Res } from '@nestjs/common';
import { jest } from '@jest/globals';
import request from 'supertest';
import { Cache, CashewsConfigError, NoCache, RateLimit } from '../../lib/index.js';
import {
  allCases,
  clearPrefix,
  Counter,
  createTestApp,
  describeCases,
  keysUnder,
  type TestApp,
} from '../http/harness.js';

const PREFIX = 'cc';
const counter = new Counter();

class CcBase {
  @Get('inherited')
  inherited() {
    return { n: counter.hit('inherited') };
  }
}

@Cache({ ttl: '1m', prefix: PREFIX })
@Controller('cc')
class CcController extends CcBase {
  @Get('list')
  list(@Query('page') page?: string) {
    return { page: page ?? null, n: counter.hit('list') };
  }

  @Get('item/:id')
  item(@Param('id') id: string) {
    return { id, n: counter.hit('item') };
  }

  @Get('live')
  @NoCache()
  live() {
    return { n: counter.hit('live') };
  }

  @Post('make')
  make() {
    return { n: counter.hit('make') };
  }

  // Its own @Cache overrides the class's: a key function of the route arguments.
  @Get('user/:id')
  @Cache({ ttl: '1m', key: ([id]: readonly [string]) => `${PREFIX}:user:${id}` })
  user(@Param('id') id: string) {
    return { id, n: counter.hit('user') };
  }

  // Its own @RateLimit runs around the class's @Cache: every request is counted, cache hits included. Limited per
  // `run`, so each case of this file counts from 0 on the Redis db they share.
  @Get('limited')
  @RateLimit({ limit: 2, period: '1m', key: 'limited:{run}' })
  limited(@Query('run') run: string) {
    return { run, n: counter.hit('limited') };
  }

  // A key function of the request; no tenant header means no key, so the call runs uncached.
  @Get('tenant')
  @Cache({
    ttl: '1m',
    key: (_args, req?: { headers?: Record<string, string | undefined> }) =>
      req?.headers?.['x-tenant'] && `${PREFIX}:tenant:${req.headers['x-tenant']}`,
  })
  tenant() {
    return { n: counter.hit('tenant') };
  }
}

describeCases('@Cache on a controller class', allCases(), (c) => {
  let t: TestApp;

  beforeAll(async () => {
    await clearPrefix(c.url, PREFIX);
    t = await createTestApp(c, { controllers: [CcController] });
  });

  afterAll(async () => {
    await t?.close();
    await clearPrefix(c.url, PREFIX);
  });

  beforeEach(() => counter.reset());

  const get = (path: string, headers: Record<string, string> = {}) =>
    request(t.server).get(path).set(headers).expect(200);

  it('caches every GET handler of the class, keyed by route and query', async () => {
    expect((await get('/cc/list?page=1')).body).toEqual({ page: '1', n: 1 });
    expect((await get('/cc/list?page=1')).body).toEqual({ page: '1', n: 1 });
    expect((await get('/cc/list?page=2')).body).toEqual({ page: '2', n: 2 });
    expect((await get('/cc/item/7')).body).toEqual({ id: '7', n: 1 });
    expect((await get('/cc/item/7')).body).toEqual({ id: '7', n: 1 });
    expect((await get('/cc/inherited')).body).toEqual({ n: 1 });
    expect((await get('/cc/inherited')).body).toEqual({ n: 1 });
    const keys = await keysUnder(t.cache, PREFIX);
    expect(keys.some((key) => /^cc:CcController:list:v[^:]+:GET:/.test(key))).toBe(true);
    expect(keys.some((key) => /^cc:CcController:inherited:v[^:]+:GET:/.test(key))).toBe(true);
  });

  it('@NoCache() opts a handler out; POST handlers are not cached', async () => {
    expect((await get('/cc/live')).body).toEqual({ n: 1 });
    expect((await get('/cc/live')).body).toEqual({ n: 2 });
    expect((await request(t.server).post('/cc/make').expect(201)).body).toEqual({ n: 1 });
    expect((await request(t.server).post('/cc/make').expect(201)).body).toEqual({ n: 2 });
    const keys = await keysUnder(t.cache, PREFIX);
    expect(keys.filter((key) => /:(live|make):/.test(key))).toEqual([]);
  });

  it("a handler's @RateLimit runs around the class's @Cache: cache hits are counted against the limit", async () => {
    const path = `/cc/limited?run=${c.adapter}-${Date.now()}`;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(t.server).get(path)).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect(counter.get('limited')).toBe(1); // the second request was a hit
  });

  it("a handler's own @Cache overrides the class's: key functions of the route arguments and the request", async () => {
    expect((await get('/cc/user/42')).body).toEqual({ id: '42', n: 1 });
    expect((await get('/cc/user/42')).body).toEqual({ id: '42', n: 1 });
    expect((await get('/cc/tenant', { 'x-tenant': 'acme' })).body).toEqual({ n: 1 });
    expect((await get('/cc/tenant', { 'x-tenant': 'acme' })).body).toEqual({ n: 1 });
    // Without the header the key function returns undefined: no shared entry, the handler runs every time.
    expect((await get('/cc/tenant')).body).toEqual({ n: 2 });
    expect((await get('/cc/tenant')).body).toEqual({ n: 3 });
    const keys = await keysUnder(t.cache, PREFIX);
    expect(keys.filter((key) => /^cc:(user|tenant):/.test(key))).toEqual(['cc:tenant:acme', 'cc:user:42']);
    expect(
      keys.filter((key) => key.startsWith('cc:CcController:user') || key.startsWith('cc:CcController:tenant')),
    ).toEqual([]);
  });
});

describe('class-level @Cache validation', () => {
  it('refuses options that name one handler', () => {
    for (const option of [{ key: 'x' }, { tags: ['t'] }, { skipArgs: [0] }]) {
      let error: unknown;
      try {
        @Cache({ ttl: '1m', ...option })
        @Controller('cc-bad')
        class CcBad {
          @Get()
          list() {
            return [];
          }
        }
        void CcBad;
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(CashewsConfigError);
      expect((error as Error).message).toMatch(
        new RegExp(`@Cache on the class CcBad: "${Object.keys(option)[0]}" names one handler's arguments`),
      );
    }
  });

  it('refuses a class-level @Cache on a provider at bootstrap', async () => {
    @Cache({ ttl: '1m' })
    @Injectable()
    class CcProvider {
      async find() {
        return 1;
      }
    }
    await expect(
      createTestApp({ adapter: 'express', backend: 'mem', url: 'mem://' }, { providers: [CcProvider] }),
    ).rejects.toThrow(/@Cache on the class CcProvider: a class-level @Cache applies to controllers/);
  });

  it('refuses skipArgs on a route handler (its default key is the route) at bootstrap', async () => {
    @Controller('cc-skip')
    class CcSkip {
      @Get()
      @Cache({ ttl: '1m', skipArgs: [0] })
      list(@Query('q') q: string) {
        return [q];
      }
    }
    await expect(
      createTestApp({ adapter: 'express', backend: 'mem', url: 'mem://' }, { controllers: [CcSkip] }),
    ).rejects.toThrow(/CcSkip.list: skipArgs applies to the default keys of provider methods/);
  });

  // Decorators that could never store were accepted silently: @Cache on a POST route (GET and HEAD are cached unless
  // `methods` says otherwise), on a handler writing through @Res(), on a controller method that is not a route, and
  // `methods` naming no HTTP method or given to a provider method.
  it('says at bootstrap which controller decorators can never store', async () => {
    @Controller('cc-never')
    class CcNever {
      @Post('create')
      @Cache({ ttl: '1m' })
      create() {
        return { created: true };
      }

      @Get('raw')
      @Cache({ ttl: '1m' })
      raw(@Res() res: { send(body: unknown): void }) {
        res.send({ raw: true });
      }

      @Cache({ ttl: '1m' })
      helper() {
        return 1;
      }

      @Post('opted')
      @Cache({ ttl: '1m', methods: ['POST'] })
      opted() {
        return { opted: true };
      }

      @Post('search')
      @Cache({ ttl: '1m', methods: ['POST'] })
      search(@Body('q') q: string) {
        return { q };
      }

      @Get('greeting')
      @Cache({ ttl: '1m' })
      greeting(@Headers('accept-language') language: string) {
        return { language };
      }

      @Get('keyed')
      @Cache({ ttl: '1m', key: 'greeting:{language}' })
      keyed(@Headers('accept-language') language: string) {
        return { language };
      }
    }
    const warnings: string[] = [];
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
      warnings.push(String(message));
    });
    let app: TestApp | undefined;
    try {
      app = await createTestApp({ adapter: 'express', backend: 'mem', url: 'mem://' }, { controllers: [CcNever] });
    } finally {
      warn.mockRestore();
      await app?.close();
    }
    const about = (method: string) => warnings.filter((message) => message.includes(`CcNever.${method}`));
    expect(about('create')).toEqual([expect.stringMatching(/POST route.*never stores.*methods: \['POST'\]/)]);
    expect(about('raw')).toEqual([expect.stringMatching(/@Res\(\).*never stores/)]);
    expect(about('helper')).toEqual([expect.stringMatching(/not a route handler/)]);
    expect(about('opted')).toEqual([]);
    // Requests differing only in what the default key does not name shared one entry, unsaid.
    expect(about('search')).toEqual([expect.stringMatching(/reads @Body\(\), which its default key .* does not name/)]);
    expect(about('greeting')).toEqual([expect.stringMatching(/reads @Headers\(\)/)]);
    expect(about('keyed')).toEqual([]);
  });

  it.each([
    ['a method name that is none', ['GTE']],
    ['a string for the list', 'POST'],
  ])('refuses methods with %s when the decorator is applied', (_label, methods) => {
    expect(() => Cache({ ttl: '1m', methods: methods as string[] })).toThrow(CashewsConfigError);
    expect(() => Cache({ ttl: '1m', methods: methods as string[] })).toThrow(/methods.*GET.*POST/);
  });

  it('refuses methods on a provider method at bootstrap', async () => {
    @Injectable()
    class CcMethodsProvider {
      @Cache({ ttl: '1m', methods: ['POST'] })
      async find() {
        return 1;
      }
    }
    await expect(
      createTestApp({ adapter: 'express', backend: 'mem', url: 'mem://' }, { providers: [CcMethodsProvider] }),
    ).rejects.toThrow(/CcMethodsProvider.find: methods applies to controller routes/);
  });
});
