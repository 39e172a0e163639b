/**
 * Usage statistics (`cache.stats()`): exact counts for a scripted sequence of decorated calls on mem:// and on
 * Redis, backend counters per instance and per prefix route, backend failures, and the hit-ratio history.
 * Redis db 9 (flushed after each test).
 */
import { jest } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CacheService, CashewsModule, createCache, type CacheStats, type MethodStats } from '../../lib/index.js';
import { describeRedis, flushRedisDb, redisUrl } from '../support/redis.js';
import { fakeClocks } from '../support/strategy-fixtures.js';
import { CatalogueService, EXPECTED, ITEM_MS, scriptedCalls } from './fixtures.js';

const DB = 9;

function byName(stats: CacheStats): Record<string, MethodStats> {
  return Object.fromEntries(stats.methods.map((m) => [`${m.method}/${m.strategy}`, m]));
}

async function start(
  url: string,
): Promise<{ app: INestApplicationContext; cache: CacheService; service: CatalogueService }> {
  const moduleRef = await Test.createTestingModule({
    imports: [CashewsModule.forRoot(url)],
    providers: [CatalogueService],
  }).compile();
  const app = await moduleRef.createNestApplication({ logger: false }).init();
  return { app, cache: app.get(CacheService), service: app.get(CatalogueService) };
}

const backends: Array<[string, () => string | undefined]> = [
  ['mem://', () => 'mem://'],
  ['redis', () => redisUrl(DB)],
];

describe.each(backends)('cache.stats() per decorated method [%s]', (name, url) => {
  const run = name === 'redis' && !url() ? it.skip : it;
  let app: INestApplicationContext | undefined;

  afterEach(async () => {
    jest.useRealTimers();
    CatalogueService.spend = () => undefined;
    await app?.close();
    app = undefined;
    if (name === 'redis') await flushRedisDb(DB);
  });

  run('counts a scripted sequence exactly', async () => {
    const started = await start(url() as string);
    app = started.app;
    const { cache, service } = started;
    expect(cache.stats().methods).toEqual([]);
    // Durations are the subject: the clock they are measured with is faked, and each item run takes ITEM_MS of it.
    fakeClocks('performance');
    CatalogueService.spend = (ms) => jest.advanceTimersByTime(ms);

    await scriptedCalls(service, cache);

    const stats = cache.stats();
    expect(stats.cache).toBe('default');
    const methods = byName(stats);
    expect(Object.keys(methods).sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const [id, expected] of Object.entries(EXPECTED)) {
      expect({ id, ...methods[id] }).toMatchObject({ id, ...expected });
    }
    expect(service.runs).toBe(3); // item 1, item 2, slow 7 once

    // Durations: each item run takes ITEM_MS; time saved is the mean run time times the hits.
    const item = methods['CatalogueService.item/cache'];
    expect(item.meanDurationMs).toBe(ITEM_MS);
    expect(item.timeSavedMs).toBe(ITEM_MS * 2);
    expect(item.hitRatio).toBe(0.5);
    expect(methods['CatalogueService.slow/cache'].timeSavedMs).toBe(0); // shared runs are avoided, not hits
    expect(methods['CatalogueService.limited/rate-limit'].circuit).toBeUndefined();

    // The history holds every hit, miss and stale value of the storing layers.
    const history = stats.history;
    const sum = (field: 'hits' | 'misses' | 'stale') => history.reduce((total, bucket) => total + bucket[field], 0);
    expect([sum('hits'), sum('misses'), sum('stale')]).toEqual([2, 2 + 5 + 1, 1]);
    expect(history.length).toBeGreaterThanOrEqual(1);
    expect(history.length).toBeLessThanOrEqual(60);

    // The backend served every strategy command and read, and never failed.
    const [backend] = stats.backends;
    expect(backend).toMatchObject({ prefix: '', errors: 0 });
    expect(backend.url).toBe(cache.config.displayUrl);
    expect(backend.commands).toBeGreaterThan(backend.hits + backend.misses);
    expect(backend.hits).toBeGreaterThanOrEqual(2 + 1); // two item hits and the failover read
  });

  run('a second application in the same process counts on its own', async () => {
    const first = await start(url() as string);
    await first.service.item(1);
    await first.service.item(1);
    const second = await start(url() as string);
    app = second.app;
    try {
      await second.service.item(1); // stored by the first application on Redis; a miss on its own mem://
      await first.service.item(1);
      expect(byName(first.cache.stats())['CatalogueService.item/cache']).toMatchObject({ calls: 3, hits: 2 });
      expect(byName(second.cache.stats())['CatalogueService.item/cache']).toMatchObject({ calls: 1 });
    } finally {
      await first.app.close();
    }
  });
});

describe('backend counters', () => {
  it('count commands, hits and misses of CacheService reads exactly', async () => {
    const cache = await createCache('mem://');
    try {
      await cache.get('a'); // miss
      await cache.set('a', 1);
      await cache.get('a'); // hit
      await cache.getMany(['a', 'b', 'c']); // 1 hit, 2 misses
      await cache.delete('a');
      expect(cache.stats().backends).toEqual([
        { prefix: '', url: 'mem://', commands: 5, errors: 0, hits: 2, misses: 3 },
      ]);
    } finally {
      await cache.close();
    }
  });

  it('count failures of an unreachable Redis (safe mode)', async () => {
    const cache = await createCache('redis://127.0.0.1:1/0?connect_timeout=200ms&max_retries=0');
    try {
      await cache.get('a');
      await cache.set('a', 1);
      expect(cache.stats().backends[0]).toMatchObject({ commands: 2, errors: 2, hits: 0, misses: 0 });
    } finally {
      await cache.close();
    }
  });
});

describeRedis('backend counters on Redis', () => {
  afterEach(() => flushRedisDb(DB));

  it('count each read of a batch (one MGET) as a command, a hit or a miss', async () => {
    const cache = await createCache(redisUrl(DB) as string);
    try {
      await cache.set('a', 1);
      await cache.set('b', { v: 2 });
      expect(await Promise.all([cache.get('a'), cache.get('b'), cache.get('c')])).toEqual([1, { v: 2 }, undefined]);
      expect(cache.stats().backends[0]).toMatchObject({ commands: 5, errors: 0, hits: 2, misses: 1 });
    } finally {
      await cache.close();
    }
  });
});

describeRedis('backend counters with prefix routing', () => {
  afterEach(() => flushRedisDb(DB));

  it('cover every routed backend', async () => {
    const session = redisUrl(DB) as string;
    const cache = await createCache('mem://', { prefixes: { 'session:': session, 'tmp:': 'mem://?size=100' } });
    try {
      await cache.set('session:1', 'alice');
      await cache.get('session:1'); // hit
      await cache.get('session:2'); // miss
      await cache.set('tmp:1', 'x');
      await cache.get('tmp:1'); // hit
      await cache.get('plain'); // miss on the main backend
      await cache.getMany(['session:1', 'tmp:9', 'plain']); // one read per backend
      const stats = cache.stats().backends;
      expect(stats.map((b) => b.prefix)).toEqual(['', 'session:', 'tmp:']);
      const [main, sessions, tmp] = stats;
      expect(main).toEqual({ prefix: '', url: 'mem://', commands: 2, errors: 0, hits: 0, misses: 2 });
      expect(sessions).toMatchObject({ prefix: 'session:', commands: 4, errors: 0, hits: 2, misses: 1 });
      expect(sessions.url).toBe(session);
      expect(tmp).toEqual({ prefix: 'tmp:', url: 'mem://?size=100', commands: 3, errors: 0, hits: 1, misses: 1 });
    } finally {
      await cache.close();
    }
  });
});
