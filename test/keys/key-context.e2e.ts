/**
 * The key context: `{@name}` in key templates reads keyContext.run values (AsyncLocalStorage), and the module
 * option keyContext fills it from each HTTP request, for the handler and everything it calls. Providers on mem://
 * and Redis; controllers on Express and Fastify.
 */
import { Controller, Get, Injectable, Param, type INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { Cache, CacheService, CashewsConfigError, CashewsModule, keyContext } from '../../lib/index.js';
import { flushRedisDb, redisUrl } from '../support/redis.js';

const DB = 2;

@Injectable()
class Reports {
  runs = 0;
  @Cache({ ttl: '1m', key: 'ctx:report:{@tenant}:{month}' })
  async monthly(month: string): Promise<string> {
    this.runs++;
    return `${String(keyContext.get('tenant'))} ${month} #${this.runs}`;
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
  describe.each(['express', 'fastify'] as const)('%s', (adapter) => {
    let app: INestApplication;
    beforeEach(async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [
          CashewsModule.forRoot('mem://', {
            keyContext: (req) => ({ tenant: req.headers['x-tenant'] }),
          }),
        ],
        controllers: [ReportsController],
        providers: [Reports],
      }).compile();
      app =
        adapter === 'fastify'
          ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false })
          : moduleRef.createNestApplication({ logger: false });
      await app.init();
      if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    });
    afterEach(() => app.close());

    it('an undecorated handler calling a decorated provider sees the request tenant', async () => {
      const server = app.getHttpServer();
      const a1 = await request(server).get('/reports/2026-11').set('x-tenant', 'acme');
      const b1 = await request(server).get('/reports/2026-11').set('x-tenant', 'globex');
      const a2 = await request(server).get('/reports/2026-11').set('x-tenant', 'acme');
      expect([a1.text, b1.text, a2.text]).toEqual(['acme 2026-11 #1', 'globex 2026-11 #2', 'acme 2026-11 #1']);
      expect(app.get(Reports).runs).toBe(2);
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
