/**
 * The sample app's one `@Adaptive` upstream call (`GET /products/:id/reviews`): the first reads run the upstream and
 * its decision is visible in the stats; once the reviews have been asked for repeatedly over two windows, later reads
 * are answered from the cache, refreshed early (the upstream is slow). `Date` is faked alone (windows), the upstream's latency stays real.
 */
import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { CacheService } from '../../lib/index.js';
import { fakeClocks } from '../support/strategy-fixtures.js';

describe('sample app: GET /products/:id/reviews under @Adaptive', () => {
  let app: INestApplication;
  const saved = { REDIS_URL: process.env.REDIS_URL, UPSTREAM_FAILURE_RATE: process.env.UPSTREAM_FAILURE_RATE };

  beforeAll(async () => {
    delete process.env.REDIS_URL;
    process.env.UPSTREAM_FAILURE_RATE = '0';
    fakeClocks('Date');
    const { AppModule } = await import('../../sample-app/app.module.js');
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
    jest.useRealTimers();
    Object.assign(process.env, saved);
    if (saved.REDIS_URL === undefined) delete process.env.REDIS_URL;
  });

  it('caches the reviews, refreshed early, once it has seen them asked for again and again', async () => {
    const http = request(app.getHttpServer());
    const get = () => http.get('/products/1/reviews').set('X-Requested-With', 'tour');
    const first = await get();
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ productId: '1', latest: expect.any(Array) });
    expect(first.headers['x-from-cache']).toBeUndefined();
    const cache = app.get(CacheService);
    const row = () => cache.stats().methods.find((m) => m.method === 'ProductsService.reviews')?.adaptive;
    expect(row()).toMatchObject({ strategy: 'none', reason: 'observing' });
    // Windows of 10 s with 25 reads each: two to propose caching, one more to apply it, one of lag (the fleet's
    // decision, on mem:// the one process's).
    for (let window = 0; window < 6 && row()?.store === 'none'; window++) {
      await Promise.all(Array.from({ length: 25 }, () => get()));
      jest.setSystemTime(Date.now() + 10_000);
      await get();
      await new Promise((resolve) => setTimeout(resolve, 50)); // the fleet exchange after that call
    }
    // Read over and over, and the upstream takes 200–400 ms: hot and slow, so refreshed before it expires.
    expect(row()).toMatchObject({ strategy: 'early', store: 'early' });
    await get();
    const served = await get();
    // Header values percent-encode the key's own `%`.
    expect(served.headers['x-from-cache']).toBe("reviews:'1':%25early");
  }, 60_000);
});
