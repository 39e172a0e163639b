/**
 * Protection state (rate limits, circuits, performance markers, locks) lives in a namespace that no cache
 * command reaches: `@Invalidate` patterns, `deleteMatch`, `scan`/`getMatch` and tag deletion leave it alone on
 * mem://, Redis (db 14, flushed around each test), the test Cluster (flushed) and behind prefix routing; only
 * `resetProtection` removes it. Plus the HTTP case of issue #9: an `@Invalidate` POST must not restore a
 * client's `@RateLimit` quota.
 */
import { engineOf } from '../../lib/engine/engine-of.js';
import { Controller, Get, Injectable, Post, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  CacheKeyError,
  CacheService,
  CashewsModule,
  CircuitBreaker,
  CircuitOpenError,
  createCache,
  Invalidate,
  Locked,
  LockedError,
  PerfDegradation,
  PerfDegradationError,
  RateLimit,
  RateLimitError,
  SlidingRateLimit,
} from '../../lib/index.js';
import { PROTECTED_PREFIX } from '../../lib/keys/protected-keys.js';
import { deferred } from '../support/strategy-fixtures.js';
import {
  clusterSkipReason,
  clusterUrl,
  describeRedis,
  flushCluster,
  flushRedisDb,
  pollUntil,
  rawCluster,
  rawRedis,
  redisSkipReason,
  redisUrl,
} from '../support/redis.js';

const DB = 14;

/** Decides `@PerfDegradation`'s condition, so the test does not depend on timing. */
let degrade = false;
let gate = deferred();

@Injectable()
class NsProducts {
  @RateLimit({ limit: 2, period: '1m', key: 'NsProducts:list:{id}' })
  list(id: string) {
    return id;
  }

  @SlidingRateLimit({ limit: 1, period: '1m', key: 'NsProducts:feed:{id}' })
  feed(id: string) {
    return id;
  }

  @CircuitBreaker({ errorsRate: 100, period: '1m', ttl: '1m', minCalls: 1 })
  fragile(fail: boolean) {
    if (fail) throw new Error('upstream down');
    return 'ok';
  }

  @PerfDegradation({ ttl: '1m', traceSize: 1, condition: () => degrade })
  report() {
    return 'report';
  }

  @Locked({ wait: false, ttl: '1m', key: 'NsProducts:exclusive' })
  async exclusive() {
    await gate.promise;
    return 'done';
  }

  @Invalidate('NsProducts:*')
  @Invalidate({ tags: ['ns'] })
  update() {
    return 'updated';
  }
}

/** Every key a cache scan lists for `pattern`. */
async function scanned(cache: CacheService, pattern = '*'): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of cache.scan(pattern)) keys.push(key);
  return keys.sort();
}

async function outcome(work: () => unknown): Promise<unknown> {
  try {
    return await work();
  } catch (error) {
    return (error as Error).constructor;
  }
}

const cases: Array<{ label: string; url: () => string | undefined; skip: () => string; flush: () => Promise<void> }> = [
  { label: 'mem://', url: () => 'mem://', skip: () => '', flush: async () => undefined },
  { label: 'redis db 14', url: () => redisUrl(DB), skip: redisSkipReason, flush: () => flushRedisDb(DB) },
  { label: 'cluster', url: clusterUrl, skip: clusterSkipReason, flush: flushCluster },
];

for (const c of cases) {
  const url = c.url();
  const title = `protection state is out of reach of cache commands on ${c.label}`;
  if (!url) {
    describe.skip(`${title} [${c.skip()}]`, () => undefined);
    continue;
  }
  describe(title, () => {
    let app: INestApplication;
    let cache: CacheService;
    let svc: NsProducts;

    beforeEach(async () => {
      await c.flush();
      degrade = false;
      gate = deferred();
      const moduleRef = await Test.createTestingModule({
        imports: [CashewsModule.forRoot(url)],
        providers: [NsProducts],
      }).compile();
      app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      cache = app.get(CacheService);
      svc = app.get(NsProducts);
    });

    afterEach(async () => {
      gate.resolve();
      await app.close();
      await c.flush();
    });

    /** Trips every protection of NsProducts; answers the lock holder's call (boxed: an async function would await it). */
    async function tripAll(): Promise<{ holder: Promise<unknown> }> {
      await svc.list('a');
      await svc.list('a');
      await svc.feed('a');
      await expect(svc.fragile(true)).rejects.toThrow('upstream down');
      await svc.report();
      degrade = true;
      await svc.report();
      degrade = false;
      const holder = svc.exclusive();
      expect(await pollUntil(() => cache.isLocked('NsProducts:exclusive:locked'), 5_000)).toBe(true);
      await expect(svc.exclusive()).rejects.toBeInstanceOf(LockedError);
      return { holder };
    }

    async function expectAllTripped(): Promise<void> {
      expect(await outcome(() => svc.list('a'))).toBe(RateLimitError);
      expect(await outcome(() => svc.feed('a'))).toBe(RateLimitError);
      expect(await outcome(() => svc.fragile(false))).toBe(CircuitOpenError);
      expect(await outcome(() => svc.report())).toBe(PerfDegradationError);
      expect(await outcome(() => svc.exclusive())).toBe(LockedError);
    }

    it('survives @Invalidate patterns, deleteMatch, getMatch and deleteTags; resetProtection resets it', async () => {
      const { holder } = await tripAll();
      await cache.set('NsProducts:page:1', 'cached', { tags: ['ns'] });

      // Tag indexes and tag lists (cashews:tag:*, cashews:tags-of:*) are reserved storage too: a scan lists neither.
      expect(await scanned(cache)).toEqual(['NsProducts:page:1']);
      expect(await scanned(cache, 'NsProducts:*')).toEqual(['NsProducts:page:1']);
      const matched: string[] = [];
      for await (const [key] of cache.getMatch('NsProducts*')) matched.push(key);
      expect(matched).toEqual(['NsProducts:page:1']);

      await svc.update(); // @Invalidate('NsProducts:*') + tag 'ns'
      await expect(cache.get('NsProducts:page:1')).resolves.toBeUndefined();
      await cache.deleteMatch('*');
      await cache.deleteMatch('NsProducts:*');
      await cache.deleteTags('ns');
      await expectAllTripped();

      expect(await cache.resetProtection('NsProducts:*')).toBeGreaterThanOrEqual(5);
      expect(await outcome(() => svc.list('a'))).toBe('a');
      expect(await outcome(() => svc.feed('a'))).toBe('a');
      expect(await outcome(() => svc.fragile(false))).toBe('ok');
      expect(await outcome(() => svc.report())).toBe('report');
      gate.resolve();
      await holder;
    });

    it('refuses cache keys and patterns in the reserved namespace', async () => {
      const reserved = `${PROTECTED_PREFIX}NsProducts:list:a:rate`;
      await expect(cache.set(reserved, 0)).rejects.toBeInstanceOf(CacheKeyError);
      await expect(cache.get(reserved)).rejects.toBeInstanceOf(CacheKeyError);
      await expect(cache.delete(reserved)).rejects.toBeInstanceOf(CacheKeyError);
      await expect(cache.deleteMatch(`${PROTECTED_PREFIX}*`)).rejects.toThrow(/reserved.*resetProtection/s);
      await expect(scanned(cache, `${PROTECTED_PREFIX}*`)).rejects.toBeInstanceOf(CacheKeyError);
    });

    it('resetProtection with an exact name resets one state only', async () => {
      await svc.list('a');
      await svc.list('a');
      await svc.list('b');
      await svc.list('b');
      expect(await cache.resetProtection('NsProducts:list:a:rate')).toBe(1);
      expect(await outcome(() => svc.list('a'))).toBe('a');
      expect(await outcome(() => svc.list('b'))).toBe(RateLimitError);
    });
  });
}

describeRedis('protection state on Redis is stored under the reserved prefix', () => {
  afterEach(() => flushRedisDb(DB));

  it('a rate-limit window is a cashews:protect: key, which a raw SCAN sees and a cache scan does not', async () => {
    const cache = await createCache(redisUrl(DB));
    const raw = rawRedis(redisUrl(DB)!);
    try {
      await engineOf(cache).fixedWindow('user:1:rate', 5, 60_000, 60_000);
      expect(await raw.keys('*')).toEqual([`${PROTECTED_PREFIX}user:1:rate`]);
      expect(await scanned(cache)).toEqual([]);
    } finally {
      raw.disconnect();
      await cache.close();
    }
  });

  it('prefix routing routes protection state by the cache key it protects', async () => {
    const cache = await createCache('mem://', { prefixes: { 'session:': redisUrl(DB)! } });
    const raw = rawRedis(redisUrl(DB)!);
    try {
      await engineOf(cache).fixedWindow('session:u1:rate', 1, 60_000, 60_000);
      expect(await raw.keys('*')).toEqual([`${PROTECTED_PREFIX}session:u1:rate`]);
      await cache.deleteMatch('session:*');
      await cache.deleteMatch('*');
      expect((await engineOf(cache).fixedWindow('session:u1:rate', 1, 60_000, 60_000)).allowed).toBe(false);
      expect(await cache.resetProtection('session:*')).toBe(1);
      expect(await raw.keys('*')).toEqual([]);
    } finally {
      raw.disconnect();
      await cache.close();
    }
  });
});

if (!clusterUrl()) {
  describe.skip(`protection state on Cluster keeps hash-tag slots [${clusterSkipReason()}]`, () => undefined);
} else {
  describe('protection state on Cluster keeps hash-tag slots', () => {
    afterEach(() => flushCluster());

    it('the state of a key with a hash tag lands in the slot of that hash tag', async () => {
      const cache = await createCache(clusterUrl());
      const raw = await rawCluster();
      try {
        await engineOf(cache).fixedWindow('{tenant7}:orders:rate', 5, 60_000, 60_000);
        const stateKey = `${PROTECTED_PREFIX}{tenant7}:orders:rate`;
        await expect(raw.exists(stateKey)).resolves.toBe(1);
        const slotOf = (key: string) => raw.cluster('KEYSLOT', key) as Promise<number>;
        expect(await slotOf(stateKey)).toBe(await slotOf('{tenant7}:orders'));
      } finally {
        raw.disconnect();
        await cache.close();
      }
    });
  });
}

@Controller('ns')
class NsController {
  @Get('list')
  @RateLimit({ limit: 2, period: '1m' })
  list() {
    return { ok: true };
  }

  @Post('list')
  @Invalidate('NsController:list:*')
  write() {
    return { ok: true };
  }
}

for (const c of cases.slice(0, 2)) {
  const url = c.url();
  const title = `an @Invalidate POST does not reset a @RateLimit quota over HTTP on ${c.label}`;
  if (!url) {
    describe.skip(`${title} [${c.skip()}]`, () => undefined);
    continue;
  }
  it(title, async () => {
    await c.flush();
    const moduleRef = await Test.createTestingModule({
      imports: [CashewsModule.forRoot(url)],
      controllers: [NsController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const server = app.getHttpServer();
      await request(server).get('/ns/list').expect(200);
      await request(server).get('/ns/list').expect(200);
      await request(server).get('/ns/list').expect(429);
      await request(server).post('/ns/list').expect(201);
      await request(server).get('/ns/list').expect(429);
    } finally {
      await app.close();
      await c.flush();
    }
  });
}
