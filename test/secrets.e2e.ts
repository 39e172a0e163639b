/**
 * No password, signing secret or token is ever shown: not in `stats()`, `/metrics`, the stats page's data, the
 * backend-failure log lines, nor in a thrown backend error. The Redis suite authenticates for real as an ACL
 * user whose password holds ':' and '@', so the URL must also be parsed right for anything to work.
 */
import { type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { CacheBackendError, CacheService, createCache } from '../lib/index.js';
import { statsApp } from './stats/app.js';
import { CatalogueService } from './stats/fixtures.js';
import { describeRedis, flushRedisDb, freePort, rawRedis, redisUrl } from './support/redis.js';
import { logged } from './support/logged.js';

const DB = 14;
const USER = 'cashews-redact-test';
const PASSWORD = 'pa:ss@w0rd';
const SECRET = 'topsecret-signing-key';
const LEAKS = [/pa:ss/, /w0rd/, /topsecret/];

function expectNoLeak(text: string): void {
  for (const leak of LEAKS) expect(text).not.toMatch(leak);
}

describeRedis('secrets on a real Redis (ACL user with ":" and "@" in its password)', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    const admin = rawRedis(redisUrl()!);
    try {
      await admin.call('ACL', 'SETUSER', USER, 'reset', 'on', `>${PASSWORD}`, '~*', '&*', '+@all');
    } finally {
      admin.disconnect();
    }
    await flushRedisDb(DB);
    const server = new URL(redisUrl()!);
    url = `redis://${USER}:${PASSWORD}@${server.host}/${DB}?secret=${SECRET}`;
    app = await statsApp(
      'express',
      { metrics: { path: '/metrics' }, dashboard: { path: '/cashews', guard: () => true } },
      url,
    );
  });

  afterAll(async () => {
    await app?.close();
    const admin = rawRedis(redisUrl()!);
    try {
      await admin.call('ACL', 'DELUSER', USER);
    } finally {
      admin.disconnect();
    }
  });

  it('authenticates with the password and signs with the secret', async () => {
    const catalogue = app.get(CatalogueService);
    await expect(catalogue.item(1)).resolves.toEqual({ id: 1 });
    await expect(catalogue.item(1)).resolves.toEqual({ id: 1 });
    expect(catalogue.runs).toBe(1);
    const raw = rawRedis(redisUrl(DB)!);
    try {
      const stored = await raw.get('stats:item:1');
      expect(stored).not.toBeNull(); // the cache really wrote to this database, as the ACL user
    } finally {
      raw.disconnect();
    }
  });

  it('stats() shows the URL with the password and the secret masked', () => {
    const stats = app.get(CacheService).stats();
    expect(stats.url).toBe(`redis://${USER}:***@${new URL(redisUrl()!).host}/${DB}?secret=***`);
    expectNoLeak(JSON.stringify(stats));
  });

  it('/metrics and the stats page data show neither', async () => {
    const metrics = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(metrics.text).toContain(`url="redis://${USER}:***@`);
    expectNoLeak(metrics.text);
    const json = await request(app.getHttpServer()).get('/cashews/stats.json').expect(200);
    expect(JSON.stringify(json.body)).toContain('secret=***');
    expectNoLeak(JSON.stringify(json.body));
    const page = await request(app.getHttpServer()).get('/cashews').expect(200);
    expectNoLeak(page.text);
  });
});

describe('secrets in backend failures', () => {
  it('the connection warning and every failure log line mask the password and the secret', async () => {
    const port = await freePort(); // nothing listens there
    const url = `redis://:${PASSWORD}@127.0.0.1:${port}/0?secret=${SECRET}&connect_timeout=300ms`;
    const lines = await logged(async () => {
      const cache = await createCache(url);
      try {
        await expect(cache.get('k')).resolves.toBeUndefined();
        expect(cache.stats().url).toBe(`redis://:***@127.0.0.1:${port}/0?secret=***&connect_timeout=300ms`);
      } finally {
        await cache.close();
      }
    });
    expect(lines.length).toBeGreaterThanOrEqual(2); // "cannot connect" at start-up, then the failed get
    expect(lines.some((line) => line.includes('failed on get'))).toBe(true);
    for (const line of lines) {
      expect(line).toContain(`redis://:***@127.0.0.1:${port}/0?secret=***`);
      expectNoLeak(line);
    }
  });

  it('without safe mode the thrown errors mask them too', async () => {
    const port = await freePort();
    const url = `redis://:${PASSWORD}@127.0.0.1:${port}/0?secret=${SECRET}&connect_timeout=300ms&safe=0`;
    const error = await createCache(url).then(
      async (cache) => {
        await cache.close();
        return undefined;
      },
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(CacheBackendError);
    expect((error as Error).message).toContain('redis://:***@');
    expectNoLeak((error as Error).message);
  });
});
