/**
 * @Cache on controller handlers, over Express and Fastify, on mem:// and Redis (db 10, keys under `hb:`):
 * hits skip the handler, the default key holds the route and the whole query string as sent (sorted by name, never
 * re-encoded: no two query strings a parser reads differently share an entry), only GET/HEAD
 * are cached unless `methods` says otherwise, `@Res()` handlers are never cached, and a StreamableFile is replayed.
 */
import { Readable } from 'node:stream';
import {
  Controller,
  Get,
  HostParam,
  Injectable,
  Post,
  Query,
  Res,
  StreamableFile,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import request from 'supertest';
import { Cache } from '../../lib/index.js';
import { allCases, clearPrefix, Counter, createTestApp, describeCases, keysUnder, type TestApp } from './harness.js';
import { pollUntil } from '../support/redis.js';

const PREFIX = 'hb';
const calls = new Counter();

@Controller('items')
class BasicController {
  @Get()
  @Cache({ ttl: '1m', prefix: PREFIX })
  list() {
    return { n: calls.hit('list') };
  }

  @Post()
  @Cache({ ttl: '1m', prefix: PREFIX })
  create() {
    return { n: calls.hit('create') };
  }

  @Post('search')
  @Cache({ ttl: '1m', prefix: PREFIX, methods: ['post'] })
  search() {
    return { n: calls.hit('search') };
  }

  @Get('find')
  @Cache({ ttl: '1m', prefix: PREFIX })
  find(@Query() query: unknown) {
    return { query, n: calls.hit('find') };
  }

  /** What the handler sees of a query string, uncached. */
  @Get('echo')
  echo(@Query() query: unknown) {
    return { query };
  }

  @Get('raw')
  @Cache({ ttl: '1m', prefix: PREFIX })
  raw(@Res() res: { status(code: number): { send(body: unknown): void } }) {
    res.status(200).send({ n: calls.hit('raw') });
  }

  @Get('stream')
  @Cache({ ttl: '1m', prefix: PREFIX })
  stream() {
    const n = calls.hit('stream');
    return new StreamableFile(Readable.from([Buffer.from(`chunk-${n}`)]), { type: 'text/plain' });
  }
}

/** An interceptor of the handler's own: keeps a route on the library's interceptor (no direct route). */
@Injectable()
class PassThrough implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler) {
    return next.handle();
  }
}

/** Nest's host routing: one controller answers every tenant's host. */
@Controller({ path: 'catalog', host: ':tenant.shop.test' })
class CatalogController {
  @Get()
  @Cache({ ttl: '1m', prefix: PREFIX })
  list(@HostParam('tenant') tenant: string, @Query('page') page?: string) {
    return { tenant, page, n: calls.hit('catalog') };
  }

  @Get('icpt')
  @UseInterceptors(PassThrough)
  @Cache({ ttl: '1m', prefix: PREFIX })
  onInterceptor(@HostParam('tenant') tenant: string) {
    return { tenant, n: calls.hit('catalog-icpt') };
  }

  @Get('tpl')
  @Cache({ ttl: '1m', prefix: PREFIX, key: 'catalog:{tenant}' })
  byTemplate(@HostParam('tenant') tenant: string) {
    return { tenant, n: calls.hit('catalog-tpl') };
  }
}

describeCases('@Cache on host-routed controllers', allCases(), (c) => {
  for (const trustProxy of [false, true]) {
    describe(trustProxy ? 'behind a trusted proxy (X-Forwarded-Host)' : 'Host header', () => {
      let t: TestApp;

      beforeEach(async () => {
        calls.reset();
        await clearPrefix(c.url, PREFIX);
        t = await createTestApp(c, { controllers: [CatalogController], providers: [PassThrough], trustProxy });
      });

      afterEach(async () => {
        await t?.close();
        await clearPrefix(c.url, PREFIX);
      });

      const get = (path: string, host: string) => {
        const req = request(t.server).get(path);
        if (trustProxy) req.set('X-Forwarded-Host', host);
        else req.set('Host', host);
        return req.expect(200).then((res) => res.body as Record<string, unknown>);
      };

      it("the default key names the host: one tenant is never served another's response", async () => {
        expect(await get('/catalog', 'acme.shop.test')).toEqual({ tenant: 'acme', n: 1 });
        expect(await get('/catalog', 'globex.shop.test')).toEqual({ tenant: 'globex', n: 2 });
        expect(await get('/catalog', 'acme.shop.test')).toEqual({ tenant: 'acme', n: 1 });
        expect(await get('/catalog?page=2', 'globex.shop.test')).toEqual({ tenant: 'globex', page: '2', n: 3 });
        expect(await get('/catalog?page=2', 'acme.shop.test')).toEqual({ tenant: 'acme', page: '2', n: 4 });
        // The host as the adapter reports it (its port left out, as Nest matches it), escaped, before the path.
        expect(await get('/catalog', 'globex.shop.test:8080')).toEqual({ tenant: 'globex', n: 2 });
        const keys = await keysUnder(t.cache, PREFIX);
        expect(keys.map((key) => key.slice(key.indexOf(':GET:') + 5)).sort()).toEqual([
          'acme.shop.test:/catalog',
          'acme.shop.test:/catalog%3Fpage=2',
          'globex.shop.test:/catalog',
          'globex.shop.test:/catalog%3Fpage=2',
        ]);
      });

      it('on the interceptor too (a handler with an interceptor of its own)', async () => {
        expect(await get('/catalog/icpt', 'acme.shop.test')).toEqual({ tenant: 'acme', n: 1 });
        expect(await get('/catalog/icpt', 'globex.shop.test')).toEqual({ tenant: 'globex', n: 2 });
        expect(await get('/catalog/icpt', 'acme.shop.test')).toEqual({ tenant: 'acme', n: 1 });
        expect(await keysUnder(t.cache, PREFIX)).toHaveLength(2);
      });

      it('a template names the @HostParam parameter', async () => {
        expect(await get('/catalog/tpl', 'acme.shop.test')).toEqual({ tenant: 'acme', n: 1 });
        expect(await get('/catalog/tpl', 'globex.shop.test')).toEqual({ tenant: 'globex', n: 2 });
        expect(await get('/catalog/tpl', 'acme.shop.test')).toEqual({ tenant: 'acme', n: 1 });
        expect(await keysUnder(t.cache, PREFIX)).toEqual(['hb:catalog:acme', 'hb:catalog:globex']);
      });
    });
  }
});

describeCases('@Cache on controllers', allCases(), (c) => {
  let t: TestApp;

  beforeEach(async () => {
    calls.reset();
    await clearPrefix(c.url, PREFIX);
    t = await createTestApp(c, { controllers: [BasicController] });
  });

  afterEach(async () => {
    await t?.close();
    await clearPrefix(c.url, PREFIX);
  });

  it('serves the second GET from the cache (the handler runs once)', async () => {
    const first = await request(t.server).get('/items').expect(200);
    const second = await request(t.server).get('/items').expect(200);
    expect(first.body).toEqual({ n: 1 });
    expect(second.body).toEqual({ n: 1 });
    expect(calls.get('list')).toBe(1);
    expect(await keysUnder(t.cache, PREFIX)).toHaveLength(1);
  });

  it('keys on the full query string: different values differ, parameter order does not matter', async () => {
    const page2 = await request(t.server).get('/items?page=2').expect(200);
    const page3 = await request(t.server).get('/items?page=3').expect(200);
    const page2again = await request(t.server).get('/items?page=2').expect(200);
    expect(page2.body).toEqual({ n: 1 });
    expect(page3.body).toEqual({ n: 2 });
    expect(page2again.body).toEqual({ n: 1 });
    expect(calls.get('list')).toBe(2);

    const ab = await request(t.server).get('/items?a=1&b=2').expect(200);
    const ba = await request(t.server).get('/items?b=2&a=1').expect(200);
    expect(ab.body).toEqual({ n: 3 });
    expect(ba.body).toEqual({ n: 3 });
    expect(calls.get('list')).toBe(3);

    // No query string at all is yet another key.
    expect((await request(t.server).get('/items').expect(200)).body).toEqual({ n: 4 });
    expect(await keysUnder(t.cache, PREFIX)).toHaveLength(4);
  });

  describe.each(c.adapter === 'express' ? ['simple', 'extended'] : ['default'])(
    'with the %s query parser',
    (parser) => {
      beforeEach(() => {
        if (parser === 'extended')
          (t.app as unknown as { set(name: string, value: string): void }).set('query parser', parser);
      });

      // Pairs of query strings that one of the parsers (Fastify's, Express's `qs` or Node's `querystring`) reads
      // differently, the second one asked right after the first: each must be answered what the handler sees of it.
      it.each([
        ['a bad escape keeps the whole value raw', 'q=%350%+off', 'q=50%25+off'],
        ['invalid UTF-8 is kept raw, or decoded as U+FFFD', 'q=%FF', 'q=%EF%BF%BD'],
        ['a name kept raw and its escaped spelling: their order is the array', '%FF=1&%25FF=2', '%25FF=2&%FF=1'],
        ['a name decoded as U+FFFD and U+FFFD itself', '%FF=1&%EF%BF%BD=2', '%EF%BF%BD=2&%FF=1'],
        ['a repeated name: its order is the array', 'a=1&a=2', 'a=2&a=1'],
        ['an encoded name and the same name', '%61=1&a=2', 'a=2&%61=1'],
        ['nested and plain values of one name (qs)', 'a[x]=1&a=2', 'a=2&a[x]=1'],
        ['a name in brackets and the plain name (qs reads [a] as a)', 'a=1&[a]=2', '[a]=2&a=1'],
        ['an escaped bracketed name and the plain name', 'a=1&%5Ba%5D=2', '%5Ba%5D=2&a=1'],
      ])('never answers one query string with another that reads differently: %s', async (_why, first, second) => {
        for (const query of [first, second, first, second]) {
          const seen = (await request(t.server).get(`/items/echo?${query}`).expect(200)).body as { query: unknown };
          const served = (await request(t.server).get(`/items/find?${query}`).expect(200)).body as { query: unknown };
          expect({ query, served: served.query }).toEqual({ query, served: seen.query });
        }
      });

      it('still shares an entry between orders of different names, kept as sent (not re-encoded)', async () => {
        expect((await request(t.server).get('/items/find?b=2&q=a%20b&a=1').expect(200)).body).toMatchObject({ n: 1 });
        expect((await request(t.server).get('/items/find?a=1&q=a%20b&b=2').expect(200)).body).toMatchObject({ n: 1 });
        expect((await request(t.server).get('/items/find?a=1&b=2&q=a+b').expect(200)).body).toMatchObject({ n: 2 });
        const keys = await keysUnder(t.cache, PREFIX);
        expect(keys.map((key) => key.slice(key.indexOf(':GET:') + 5))).toEqual([
          '/items/find%3Fa=1&b=2&q=a%2520b',
          '/items/find%3Fa=1&b=2&q=a+b',
        ]);
      });
    },
  );

  it('does not cache POST by default', async () => {
    await request(t.server).post('/items').expect(201);
    const second = await request(t.server).post('/items').expect(201);
    expect(second.body).toEqual({ n: 2 });
    expect(calls.get('create')).toBe(2);
    expect(await keysUnder(t.cache, PREFIX)).toEqual([]);
  });

  it("caches POST with methods: ['POST'] (given in any case)", async () => {
    await request(t.server).post('/items/search').expect(201);
    const second = await request(t.server).post('/items/search').expect(201);
    expect(second.body).toEqual({ n: 1 });
    expect(calls.get('search')).toBe(1);
  });

  it('never caches a handler that uses @Res()', async () => {
    const first = await request(t.server).get('/items/raw').expect(200);
    const second = await request(t.server).get('/items/raw').expect(200);
    expect(first.body).toEqual({ n: 1 });
    expect(second.body).toEqual({ n: 2 });
    expect(calls.get('raw')).toBe(2);
    expect(await keysUnder(t.cache, PREFIX)).toEqual([]);
  });

  it('caches a StreamableFile result once streamed: a hit replays its bytes with its content type (issue #12)', async () => {
    const first = await request(t.server).get('/items/stream').buffer(true).expect(200);
    expect(first.text).toBe('chunk-1');
    // Stored in the background once the first response has been streamed.
    expect(await pollUntil(async () => (await keysUnder(t.cache, PREFIX)).length === 1, 2_000, 10)).toBe(true);
    const second = await request(t.server).get('/items/stream').buffer(true).expect(200);
    expect(second.text).toBe('chunk-1');
    expect(second.headers['content-type']).toMatch(/^text\/plain/);
    expect(calls.get('stream')).toBe(1);
  });
});
