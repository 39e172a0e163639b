/**
 * Prometheus metrics: the text exposition on `metrics.path` (Express and Fastify), parsed strictly; the optional
 * guard; collectors in a prom-client registry; option validation at bootstrap. Redis db 9 for the Redis case.
 */
import type { INestApplication } from '@nestjs/common';
import { Registry } from 'prom-client';
import request from 'supertest';
import { jest } from '@jest/globals';
import { CacheService, CashewsConfigError, CashewsModule } from '../../lib/index.js';
import { Test } from '@nestjs/testing';
import { flushRedisDb, redisUrl } from '../support/redis.js';
import { fakeClocks } from '../support/strategy-fixtures.js';
import { statsApp, parsePrometheus, sampleValue, type Adapter } from './app.js';
import { CatalogueService, ITEM_MS, scriptedCalls } from './fixtures.js';

const DB = 9;
const cases: Array<[Adapter, string]> = [
  ['express', 'mem'],
  ['fastify', 'mem'],
  ['express', 'redis'],
  ['fastify', 'redis'],
];

describe.each(cases)('metrics endpoint [%s / %s]', (adapter, backend) => {
  const url = backend === 'redis' ? redisUrl(DB) : 'mem://';
  const run = url ? it : it.skip;
  let app: INestApplication | undefined;

  afterEach(async () => {
    jest.useRealTimers();
    CatalogueService.spend = () => undefined;
    await app?.close();
    app = undefined;
    if (backend === 'redis') await flushRedisDb(DB);
  });

  run('exposes exact counts in the Prometheus text format', async () => {
    app = await statsApp(adapter, { metrics: { path: '/metrics' } }, url);
    // Durations are the subject: the clock they are measured with is faked, and each item run takes ITEM_MS of it.
    fakeClocks('performance');
    CatalogueService.spend = (ms) => jest.advanceTimersByTime(ms);
    const server = app.getHttpServer();
    await request(server).get('/items/1').expect(200);
    await request(server).get('/items/1').expect(200);
    await request(server).get('/items/1').expect(200);
    await scriptedCalls(app.get(CatalogueService), app.get(CacheService));

    const res = await request(server).get('/metrics').expect(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    const { samples, types, help } = parsePrometheus(res.text);
    expect(types).toMatchObject({
      cashews_hits_total: 'counter',
      cashews_misses_total: 'counter',
      cashews_stale_total: 'counter',
      cashews_errors_total: 'counter',
      cashews_executions_avoided_total: 'counter',
      cashews_rejections_total: 'counter',
      cashews_execution_duration_seconds: 'summary',
      cashews_time_saved_seconds: 'gauge',
      cashews_circuit_state: 'gauge',
      cashews_backend_commands_total: 'counter',
      cashews_backend_errors_total: 'counter',
    });
    expect(help.cashews_hits_total).toBe('Calls answered with a fresh stored value.');

    const http = { cache: 'default', method: 'ItemsController.get', strategy: 'cache' };
    expect(sampleValue(samples, 'cashews_hits_total', http)).toBe(2);
    expect(sampleValue(samples, 'cashews_misses_total', http)).toBe(1);
    const item = { method: 'CatalogueService.item', strategy: 'cache' };
    expect(sampleValue(samples, 'cashews_calls_total', item)).toBe(4);
    expect(sampleValue(samples, 'cashews_hits_total', item)).toBe(2);
    expect(sampleValue(samples, 'cashews_executions_avoided_total', { method: 'CatalogueService.slow' })).toBe(4);
    expect(sampleValue(samples, 'cashews_stale_total', { method: 'CatalogueService.price' })).toBe(1);
    expect(sampleValue(samples, 'cashews_rejections_total', { method: 'CatalogueService.limited' })).toBe(1);
    expect(sampleValue(samples, 'cashews_execution_duration_seconds_count', item)).toBe(2);
    expect(sampleValue(samples, 'cashews_execution_duration_seconds_sum', item)).toBeCloseTo((2 * ITEM_MS) / 1000, 6);
    const breaker = { method: 'CatalogueService.breaker', strategy: 'circuit-breaker' };
    expect(sampleValue(samples, 'cashews_circuit_state', { ...breaker, state: 'open' })).toBe(1);
    expect(sampleValue(samples, 'cashews_circuit_state', { ...breaker, state: 'closed' })).toBe(0);
    expect(sampleValue(samples, 'cashews_backend_errors_total', { cache: 'default', prefix: '' })).toBe(0);
    expect(sampleValue(samples, 'cashews_backend_commands_total', { cache: 'default', prefix: '' })).toBeGreaterThan(
      10,
    );
  });

  run('answers 403 when the guard refuses', async () => {
    app = await statsApp(
      adapter,
      { metrics: { path: '/ops/metrics', guard: (req) => req.headers['x-token'] === 's3cret' } },
      url,
    );
    const server = app.getHttpServer();
    await request(server).get('/ops/metrics').expect(403);
    await request(server).get('/ops/metrics').set('x-token', 'nope').expect(403);
    const res = await request(server).get('/ops/metrics').set('x-token', 's3cret').expect(200);
    expect(res.text).toContain('# TYPE cashews_hits_total counter');
  });
});

describe('prom-client registry', () => {
  it('collects the cashews metrics into an application registry on scrape', async () => {
    const registry = new Registry();
    const app = await statsApp('express', { metrics: { registry } });
    try {
      await scriptedCalls(app.get(CatalogueService), app.get(CacheService));
      const { samples } = parsePrometheus(await registry.metrics());
      expect(sampleValue(samples, 'cashews_hits_total', { method: 'CatalogueService.item' })).toBe(2);
      expect(sampleValue(samples, 'cashews_rejections_total', { method: 'CatalogueService.breaker' })).toBe(1);
      await app.get(CatalogueService).item(1);
      const again = parsePrometheus(await registry.metrics()).samples;
      expect(sampleValue(again, 'cashews_hits_total', { method: 'CatalogueService.item' })).toBe(3);
      // No HTTP route was asked for.
      await request(app.getHttpServer()).get('/metrics').expect(404);
    } finally {
      await app.close();
    }
  });
});

describe('statistics options are validated at bootstrap', () => {
  it.each<[string, Record<string, unknown>]>([
    ['a relative metrics path', { metrics: { path: 'metrics' } }],
    ['a metrics path with a query', { metrics: { path: '/metrics?x=1' } }],
    ['a trailing slash', { metrics: { path: '/metrics/' } }],
    ['metrics without path or registry', { metrics: {} }],
    ['an unknown metrics option', { metrics: { path: '/m', pth: '/x' } }],
    ['a registry that is not one', { metrics: { registry: {} } }],
    ['a dashboard without a guard', { dashboard: { path: '/cashews' } }],
    ['a dashboard path with a wildcard', { dashboard: { path: '/cash*', guard: () => true } }],
    [
      'colliding paths',
      { metrics: { path: '/cashews/stats.json' }, dashboard: { path: '/cashews', guard: () => true } },
    ],
  ])('rejects %s with CashewsConfigError', async (_label, options) => {
    const compiling = Test.createTestingModule({ imports: [CashewsModule.forRoot('mem://', options)] }).compile();
    await expect(compiling).rejects.toBeInstanceOf(CashewsConfigError);
  });
});

describe('instances that share a statistics path', () => {
  // The routes were kept per path, the last instance's guard winning: a named instance setting `/metrics` without a
  // guard served the default instance's guarded metrics to anyone.
  const guard = () => false;
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      'a guarded and an unguarded metrics path',
      { metrics: { path: '/metrics', guard } },
      { metrics: { path: '/metrics' } },
    ],
    [
      'two different metrics guards',
      { metrics: { path: '/metrics', guard } },
      { metrics: { path: '/metrics', guard: () => true } },
    ],
    [
      'two different dashboard guards',
      { dashboard: { path: '/cashews', guard } },
      { dashboard: { path: '/cashews', guard: () => true } },
    ],
  ])('refuses %s at bootstrap, naming the path', async (_label, first, second) => {
    const compiling = Test.createTestingModule({
      imports: [
        CashewsModule.forRoot('mem://', first),
        CashewsModule.forRoot('mem://', { name: 'sessions', ...second }),
      ],
    }).compile();
    const app = (await compiling).createNestApplication({ logger: false });
    const init = app.init();
    await expect(init).rejects.toBeInstanceOf(CashewsConfigError);
    await expect(init).rejects.toThrow(/\/(metrics|cashews).*guard/);
    await app.close();
  });

  it('serves one guarded route when both instances give the same guard', async () => {
    const app = (
      await Test.createTestingModule({
        imports: [
          CashewsModule.forRoot('mem://', { metrics: { path: '/metrics', guard } }),
          CashewsModule.forRoot('mem://', { name: 'sessions', metrics: { path: '/metrics', guard } }),
        ],
      }).compile()
    ).createNestApplication({ logger: false });
    await app.init();
    try {
      await request(app.getHttpServer()).get('/metrics').expect(403);
    } finally {
      await app.close();
    }
  });
});
