/**
 * The key context: `{@name}` in key templates reads keyContext.run values (AsyncLocalStorage), and the module
 * option keyContext fills it from each HTTP request, for the handler and everything it calls. Providers on mem://
 * and Redis db 2; controllers on Express and Fastify, on mem:// and Redis db 10 (keys under `ctx:`).
 */
import { Controller, Get, Injectable, Param, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { Cache, CacheService, CashewsConfigError, CashewsModule, keyContext } from '../../lib/index.js';
import { flushRedisDb, redisUrl } from '../support/redis.js';
import { allCases, clearPrefix, createTestApp, describeCases, keysUnder, type TestApp } from '../http/harness.js';

const DB = 2;

@Injectable()
class Reports {
  runs = 0;
  @Cache({ ttl: '1m', key: 'ctx:report:{@tenant}:{month}' })
  async monthly(month: string): Promise<string> {
    this.runs++;
    return `${String(keyContext.get('tenant'))} ${month} #${this.runs}`;
  }

  slowRuns = 0;
  /** Yields mid-run (a random few ms), so that concurrent runs of different tenants interleave. */
  @Cache({ ttl: '1m', key: 'ctx:slow:{@tenant}:{month}' })
  async slow(month: string): Promise<string> {
    this.slowRuns++;
    await new Promise((resolve) => setTimeout(resolve, 5 + Math.floor(Math.random() * 20)));
    return `${String(keyContext.get('tenant'))} ${month}`;
  }

  @Cache({ ttl: '1m', key: 'ctx:shared:{@tenant?}:{month}' })
  async shared(month: string): Promise<string> {
    this.runs++;
    return `shared ${month} #${this.runs}`;
  }
}

@Controller('reports')
class ReportsController {
  constructor(private readonly reports: Reports) {}

  /** A handler whose own key reads the request's tenant. */
  @Get('own/:month')
  @Cache({ ttl: '1m', key: 'ctx:own:{@tenant}:{month}' })
  own(@Param('month') month: string) {
    return { tenant: keyContext.get('tenant'), month, n: ++this.reports.runs };
  }

  @Get('slow/:month')
  async slow(@Param('month') month: string) {
    const before = keyContext.get('tenant');
    const report = await this.reports.slow(month);
    return { before, after: keyContext.get('tenant'), report };
  }

  @Get(':month')
  monthly(@Param('month') month: string): Promise<string> {
    return this.reports.monthly(month);
  }
}

describe.each([
  ['mem://', () => 'mem://'],
  ['redis', () => redisUrl(DB)!],
])('key context on providers (%s)', (_name, url) => {
  let app: INestApplication;
  let reports: Reports;
  let cache: CacheService;
  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CashewsModule.forRoot(url())],
      providers: [Reports],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    reports = app.get(Reports);
    cache = app.get(CacheService);
    await cache.clear();
  });
  afterEach(() => app.close());
  afterAll(() => (url().startsWith('redis') ? flushRedisDb(DB) : undefined));

  it('keeps tenants apart without a tenant argument; nested runs add and override names', async () => {
    expect(await keyContext.run({ tenant: 't1' }, () => reports.monthly('2026-11'))).toBe('t1 2026-11 #1');
    expect(await keyContext.run({ tenant: 't2' }, () => reports.monthly('2026-11'))).toBe('t2 2026-11 #2');
    expect(await keyContext.run({ tenant: 't1' }, () => reports.monthly('2026-11'))).toBe('t1 2026-11 #1');
    expect(
      await keyContext.run({ tenant: 't1', region: 'eu' }, () =>
        keyContext.run({ tenant: 't3' }, () => reports.monthly('2026-11')),
      ),
    ).toBe('t3 2026-11 #3');
    expect(await cache.exists('ctx:report:t1:2026-11')).toBe(true);
    expect(await cache.exists('ctx:report:t2:2026-11')).toBe(true);
  });

  it('without a tenant a strict key refuses to share one entry: every call runs, nothing is stored', async () => {
    await reports.monthly('2026-10');
    await reports.monthly('2026-10');
    expect(reports.runs).toBe(2);
    const keys: string[] = [];
    for await (const key of cache.scan('ctx:*')) keys.push(key);
    expect(keys).toEqual([]);
  });

  it('{@tenant?} is optional: calls without one share the "undefined" entry', async () => {
    await reports.shared('2026-09');
    await reports.shared('2026-09');
    expect(reports.runs).toBe(1);
  });

  it('a tenant value cannot escape its segment or widen a pattern', async () => {
    await keyContext.run({ tenant: 'a:*' }, () => reports.monthly('m'));
    const keys: string[] = [];
    for await (const key of cache.scan('ctx:report:*')) keys.push(key);
    expect(keys).toEqual(['ctx:report:a%3A%2A:m']);
  });
});

describe('key context from each HTTP request', () => {
  describeCases('keyContext option', allCases(), (c) => {
    let t: TestApp;
    beforeEach(async () => {
      await clearPrefix(c.url, 'ctx');
      t = await createTestApp(c, {
        controllers: [ReportsController],
        providers: [Reports],
        options: { keyContext: (req) => ({ tenant: req.headers['x-tenant'] }) },
      });
    });
    afterEach(() => t.close());

    it('an undecorated handler calling a decorated provider sees the request tenant', async () => {
      const a1 = await request(t.server).get('/reports/2026-11').set('x-tenant', 'acme');
      const b1 = await request(t.server).get('/reports/2026-11').set('x-tenant', 'globex');
      const a2 = await request(t.server).get('/reports/2026-11').set('x-tenant', 'acme');
      expect([a1.text, b1.text, a2.text]).toEqual(['acme 2026-11 #1', 'globex 2026-11 #2', 'acme 2026-11 #1']);
      expect(t.app.get(Reports).runs).toBe(2);
    });

    it('a decorated handler keys on {@tenant} itself; a request without a tenant runs uncached', async () => {
      const own = (tenant?: string) => {
        const call = request(t.server).get('/reports/own/2026-11');
        return (tenant === undefined ? call : call.set('x-tenant', tenant)).expect(200);
      };
      expect((await own('acme')).body).toEqual({ tenant: 'acme', month: '2026-11', n: 1 });
      expect((await own('globex')).body).toEqual({ tenant: 'globex', month: '2026-11', n: 2 });
      expect((await own('acme')).body).toEqual({ tenant: 'acme', month: '2026-11', n: 1 });
      expect((await own()).body.n).toBe(3);
      expect((await own()).body.n).toBe(4);
      expect(await keysUnder(t.cache, 'ctx')).toEqual(['ctx:own:acme:2026-11', 'ctx:own:globex:2026-11']);
    });

    it("concurrent requests of different tenants never see each other's context or entries", async () => {
      const tenants = ['t1', 't2', 't3', 't4'];
      const month = (i: number) => (Math.floor(i / tenants.length) % 2 ? 'a' : 'b');
      // 24 requests in flight at once, interleaved; each handler and provider yields to the others mid-run.
      const responses = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          request(t.server)
            .get(`/reports/slow/${month(i)}`)
            .set('x-tenant', tenants[i % tenants.length]),
        ),
      );
      responses.forEach((response, i) => {
        expect(response.status).toBe(200);
        const tenant = tenants[i % tenants.length];
        // What the handler saw before and after its await, and what the provider saw: all the request's tenant.
        expect(response.body).toMatchObject({
          before: tenant,
          after: tenant,
          report: `${tenant} ${month(i)}`,
        });
      });
      // One entry per tenant and month: 4 tenants x 2 months, each computed once.
      expect(t.app.get(Reports).slowRuns).toBe(8);
      expect(await keysUnder(t.cache, 'ctx')).toEqual(
        tenants.flatMap((tenant) => [`ctx:slow:${tenant}:a`, `ctx:slow:${tenant}:b`]).sort(),
      );
    });
  });

  it('a keyContext option that is not a function is refused at bootstrap', async () => {
    const compiled = Test.createTestingModule({
      imports: [CashewsModule.forRoot('mem://', { keyContext: 'x-tenant' as never })],
    }).compile();
    await expect(compiled).rejects.toThrow(CashewsConfigError);
    await expect(
      Test.createTestingModule({
        imports: [CashewsModule.forRoot('mem://', { keyContext: 'x-tenant' as never })],
      }).compile(),
    ).rejects.toThrow(/Invalid CashewsModule option "keyContext": expected a function/);
  });
});
