/**
 * Every pair of storing decorators stacked both ways (and each on itself): a layer never stores what a layer below
 * it served from its cache or as a stand-in (a hit, an early or soft value, a failover value), and stores again as
 * soon as the method really ran. Providers and a controller, on mem:// and Redis db 8; names start with "Sp".
 */
import { Controller, Get, Injectable, Param, ParseIntPipe } from '@nestjs/common';
import request from 'supertest';
import {
  backgroundSettled,
  Cache,
  RateLimit,
  CacheDetect,
  Early,
  Failover,
  HitCache,
  Soft,
  type CacheService,
} from '../../lib/index.js';
import { cleanup, closeApps, describeBackends, startApp } from '../support/strategy-fixtures.js';

const TAG = 'Sp';

class SpUpstreamError extends Error {}

/** The storing decorators, each with a key of its own and a ttl long enough that nothing expires in a test. */
const STORING = {
  Cache: (key: string) => Cache({ ttl: '30s', key }),
  Early: (key: string) => Early({ ttl: '30s', earlyTtl: '20s', key }),
  Soft: (key: string) => Soft({ ttl: '30s', softTtl: '20s', key }),
  HitCache: (key: string) => HitCache({ ttl: '30s', cacheHits: 100, key }),
  Failover: (key: string) => Failover({ ttl: '30s', key }),
} as const;
type Storing = keyof typeof STORING;
const NAMES = Object.keys(STORING) as Storing[];
const PAIRS: Array<[Storing, Storing]> = NAMES.flatMap((outer) =>
  NAMES.map((inner): [Storing, Storing] => [outer, inner]),
);

interface Pair {
  calls: number;
  failWith?: Error;
  get(id: number): Promise<string>;
}

const pairKeys = (outer: Storing, inner: Storing) => ({
  outer: `SpO${outer}${inner}:1`,
  inner: `SpI${outer}${inner}:1`,
});

/** A provider class whose `get` is decorated `@outer` above `@inner`, as TypeScript would apply them. */
function stacked(outer: Storing, inner: Storing): new () => Pair {
  class SpPair implements Pair {
    calls = 0;
    failWith?: Error;
    async get(id: number): Promise<string> {
      this.calls++;
      if (this.failWith) throw this.failWith;
      return `${id}#${this.calls}`;
    }
  }
  Object.defineProperty(SpPair, 'name', { value: `SpPair${outer}${inner}` });
  const descriptor = Object.getOwnPropertyDescriptor(SpPair.prototype, 'get')!;
  const decorated = Reflect.decorate(
    [STORING[outer](`SpO${outer}${inner}:{id}`), STORING[inner](`SpI${outer}${inner}:{id}`)],
    SpPair.prototype,
    'get',
    descriptor,
  ) as PropertyDescriptor;
  Object.defineProperty(SpPair.prototype, 'get', decorated);
  Injectable()(SpPair);
  return SpPair;
}

const classes = new Map(PAIRS.map(([outer, inner]) => [`${outer}/${inner}`, stacked(outer, inner)]));

/** Stacks where a layer steps aside, shares a run, or waits on another process's lock. */
@Injectable()
class SpEdges {
  calls = 0;

  /** RateLimit between the two: switched off at run time, it must still hand the run report on. */
  @Failover({ ttl: '30s', key: 'SpEdgeFo:{id}' })
  @RateLimit({ limit: 100, period: '1m', key: 'SpEdgeRl:{id}' })
  @Cache({ ttl: '30s', key: 'SpEdgeCa:{id}' })
  async throughLimit(id: number): Promise<string> {
    return `${id}#${++this.calls}`;
  }

  /** A middle Cache whose run concurrent callers share; the innermost one serves it. */
  @Failover({ ttl: '30s', key: 'SpShareFo:{id}:{tag}' })
  @Cache({ ttl: '30s', key: 'SpShareMid:{id}' })
  @Cache({ ttl: '30s', key: 'SpShareIn:{id}' })
  async shared(id: number, tag: string): Promise<string> {
    void tag;
    await new Promise((resolve) => setTimeout(resolve, 5));
    return `${id}#${++this.calls}`;
  }

  /** A stampede-locked Cache: a waiter gets what the lock holder (another process) stored. */
  @Failover({ ttl: '30s', key: 'SpLockFo:{id}' })
  @Cache({ ttl: '30s', key: 'SpLockCa:{id}', lock: true, lockTtl: '5s', step: 10 })
  async locked(id: number): Promise<string> {
    return `${id}#${++this.calls}`;
  }
}

@Controller('sp')
class SpController {
  calls = 0;
  failing = false;

  /** Cache outside Failover: a failover value served on a failure must not be cached as if it were fresh. */
  @Get(':id')
  @Cache({ ttl: '30s', key: 'SpHttpCache:{id}' })
  @Failover({ ttl: '30s', key: 'SpHttpFailover:{id}' })
  read(@Param('id', ParseIntPipe) id: number) {
    this.calls++;
    if (this.failing) throw new SpUpstreamError('down');
    return { id, run: this.calls };
  }
}

describeBackends('stacked storing decorators', ({ url }) => {
  let cache: CacheService;
  let app: Awaited<ReturnType<typeof startApp>>['app'];

  beforeEach(async () => {
    await cleanup(url, TAG);
    ({ app, cache } = await startApp(url, [...classes.values(), SpEdges], { controllers: [SpController] }));
  });
  afterEach(async () => {
    await backgroundSettled();
    await closeApps();
  });

  it.each(PAIRS)('@%s above @%s: the outer layer does not store what the inner one served', async (outer, inner) => {
    const svc = app.get<Pair>(classes.get(`${outer}/${inner}`)!);
    const keys = pairKeys(outer, inner);

    // A real run: both layers store its result.
    expect(await svc.get(1)).toBe('1#1');
    await backgroundSettled();
    expect([await cache.exists(keys.outer), await cache.exists(keys.inner)]).toEqual([true, true]);

    // The outer entry is gone; the inner layer serves (a hit, or Failover's stand-in for a failing run).
    await cache.delete(keys.outer);
    if (inner === 'Failover') svc.failWith = new SpUpstreamError('down');
    const { result, hits } = await CacheDetect.run(() => svc.get(1));
    await backgroundSettled();
    expect(result).toBe('1#1');
    expect(hits).toEqual([expect.objectContaining({ key: keys.inner })]);
    expect(svc.calls).toBe(inner === 'Failover' ? 2 : 1);
    expect(await cache.exists(keys.outer)).toBe(false);

    // The inner entry is gone too and the method works again: that run is stored by both layers.
    svc.failWith = undefined;
    await cache.deleteMatch(`${keys.inner}*`);
    const fresh = `1#${svc.calls + 1}`;
    expect(await svc.get(1)).toBe(fresh);
    await backgroundSettled();
    expect([await cache.exists(keys.outer), await cache.exists(keys.inner)]).toEqual([true, true]);
    // The outer layer now serves that run by itself (Failover serves only when the method fails).
    if (outer !== 'Failover') await expect(svc.get(1)).resolves.toBe(fresh);
  });

  it('a layer switched off at run time still hands the report on: the outer layer does not store a hit', async () => {
    const edges = app.get(SpEdges);
    expect(await edges.throughLimit(1)).toBe('1#1');
    await cache.delete('SpEdgeFo:1');
    expect(await cache.disabling(['limit'], () => edges.throughLimit(1))).toBe('1#1');
    expect(await cache.exists('SpEdgeFo:1')).toBe(false);
  });

  it('callers sharing a run that a layer below served are all served: no outer layer stores it', async () => {
    const edges = app.get(SpEdges);
    expect(await edges.shared(1, 'x')).toBe('1#1');
    await cache.delete('SpShareMid:1');
    // Two callers with their own outer keys share the middle layer's run; the innermost Cache serves it.
    expect(await Promise.all([edges.shared(1, 'a'), edges.shared(1, 'b')])).toEqual(['1#1', '1#1']);
    expect([await cache.exists('SpShareFo:1:a'), await cache.exists('SpShareFo:1:b')]).toEqual([false, false]);
    expect(edges.calls).toBe(1);
  });

  it('a value a stampede-lock waiter gets from the lock holder is served: the outer layer does not store it', async () => {
    const edges = app.get(SpEdges);
    // Another process holds the stampede lock and stores its value while this one waits.
    const token = 'other-process';
    expect(await cache.setLock('SpLockCa:1:stampede', token, '5s')).toBe(true);
    setTimeout(() => {
      void cache.set('SpLockCa:1', 'from the other process').then(() => cache.unlock('SpLockCa:1:stampede', token));
    }, 100);
    expect(await edges.locked(1)).toBe('from the other process');
    expect(edges.calls).toBe(0);
    expect(await cache.exists('SpLockFo:1')).toBe(false);
  });

  it('a controller: @Cache above @Failover does not cache the failover body served while the handler fails', async () => {
    const controller = app.get(SpController);
    const server = app.getHttpServer();
    await request(server).get('/sp/1').expect(200, { id: 1, run: 1 });
    // Keys are built before pipes run: the route parameter is the string '1'.
    await cache.delete("SpHttpCache:'1'");
    controller.failing = true;
    await request(server).get('/sp/1').expect(200, { id: 1, run: 1 }); // Failover's stand-in for run 2
    expect(await cache.exists("SpHttpCache:'1'")).toBe(false);
    // Recovered: the next request runs the handler (nothing stale was cached above it) and is cached again.
    controller.failing = false;
    await request(server).get('/sp/1').expect(200, { id: 1, run: 3 });
    expect(await cache.exists("SpHttpCache:'1'")).toBe(true);
  });
});
