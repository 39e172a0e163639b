/**
 * Every pair of storing decorators stacked both ways (and each on itself): a layer never stores what a layer below
 * it served from its cache or as a stand-in (a hit, an early or soft value, a failover value, a stale value answered
 * at `timeout`, a stored `cacheErrors` error re-thrown), and stores again as soon as the method really ran. Providers
 * and a controller, on mem:// and Redis db 8; names start with "Sp".
 */
import { Controller, Get, Injectable, Param, ParseIntPipe } from '@nestjs/common';
import request from 'supertest';
import {
  backgroundSettled,
  Cache,
  CacheableClass,
  RateLimit,
  CacheDetect,
  Early,
  Failover,
  HitCache,
  Soft,
  type CacheService,
} from '../../lib/index.js';
import {
  cleanup,
  closeApps,
  describeBackends,
  Gate,
  rejection,
  sleep,
  startApp,
} from '../support/strategy-fixtures.js';

const TAG = 'Sp';

class SpUpstreamError extends Error {}

/** An error the inner layer stores (`cacheErrors`) and re-throws on a hit. */
@CacheableClass()
class SpNotFound extends Error {}

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

/** A provider whose `get` is `@outer` above `inner` (a method decorator), the method held by `gate` when asked. */
function above(name: string, outer: MethodDecorator, inner: MethodDecorator) {
  class SpAbove {
    calls = 0;
    failWith?: Error;
    readonly gate = new Gate();
    async get(id: number): Promise<string> {
      this.calls++;
      await this.gate.wait();
      if (this.failWith) throw this.failWith;
      return `${id}#${this.calls}`;
    }
  }
  Object.defineProperty(SpAbove, 'name', { value: name });
  const descriptor = Object.getOwnPropertyDescriptor(SpAbove.prototype, 'get')!;
  const decorated = Reflect.decorate([outer, inner], SpAbove.prototype, 'get', descriptor) as PropertyDescriptor;
  Object.defineProperty(SpAbove.prototype, 'get', decorated);
  Injectable()(SpAbove);
  return SpAbove;
}

/** Inner: fresh for 200 ms, then kept as a stale stand-in that a recompute slower than 100 ms answers. */
const timedAbove = new Map(
  NAMES.map((outer) => [
    outer,
    above(
      `SpTimed${outer}`,
      STORING[outer](`SpTimedO${outer}:{id}`),
      Cache({ ttl: 200, staleTtl: '1m', timeout: 100, key: `SpTimedI${outer}:{id}` }),
    ),
  ]),
);

/** Both layers list SpNotFound in cacheErrors (Failover refuses cacheErrors, so it is not among the outers). */
const ERROR_OUTERS = ['Cache', 'Early', 'Soft', 'HitCache'] as const;
const errorOptions = { ttl: '30s', cacheErrors: [SpNotFound] } as const;
const OUTER_WITH_ERRORS = {
  Cache: (key: string) => Cache({ ...errorOptions, key }),
  Early: (key: string) => Early({ ...errorOptions, earlyTtl: '20s', key }),
  Soft: (key: string) => Soft({ ...errorOptions, softTtl: '20s', key }),
  HitCache: (key: string) => HitCache({ ...errorOptions, cacheHits: 100, key }),
};
const errorsAbove = new Map(
  ERROR_OUTERS.map((outer) => [
    outer,
    above(
      `SpErrors${outer}`,
      OUTER_WITH_ERRORS[outer](`SpErrO${outer}:{id}`),
      Cache({ ...errorOptions, key: `SpErrI${outer}:{id}` }),
    ),
  ]),
);

type Above = InstanceType<ReturnType<typeof above>>;

@Controller('sp')
class SpController {
  calls = 0;
  failing = false;

  /** Failover outside Cache: a cache hit is not a value the handler returned, Failover must not keep it. */
  @Get('fo/:id')
  @Failover({ ttl: '30s', key: 'SpHttpFoOut:{id}' })
  @Cache({ ttl: '30s', key: 'SpHttpFoIn:{id}' })
  failoverAboveCache(@Param('id', ParseIntPipe) id: number) {
    this.calls++;
    if (this.failing) throw new SpUpstreamError('down');
    return { id, run: this.calls };
  }

  /** Early outside Cache: a cache hit is not a fresh run for Early to store (and refresh early). */
  @Get('early/:id')
  @Early({ ttl: '30s', earlyTtl: '20s', key: 'SpHttpEaOut:{id}' })
  @Cache({ ttl: '30s', key: 'SpHttpEaIn:{id}' })
  earlyAboveCache(@Param('id', ParseIntPipe) id: number) {
    return { id, run: ++this.calls };
  }

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
    ({ app, cache } = await startApp(
      url,
      [...classes.values(), ...timedAbove.values(), ...errorsAbove.values(), SpEdges],
      {
        controllers: [SpController],
      },
    ));
  });
  afterEach(async () => {
    for (const type of timedAbove.values()) app.get<Above>(type).gate.release();
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

  it.each(NAMES)(
    '@%s above a @Cache answering a stale value at its timeout: the outer layer stores nothing',
    async (outer) => {
      const svc = app.get<Above>(timedAbove.get(outer)!);
      const keys = { outer: `SpTimedO${outer}:1`, inner: `SpTimedI${outer}:1` };
      expect(await svc.get(1)).toBe('1#1');
      await backgroundSettled();
      expect([await cache.exists(keys.outer), await cache.exists(keys.inner)]).toEqual([true, true]);

      // Past the inner ttl, with the outer entry gone: the recompute is held, the inner layer answers its stale value.
      await sleep(300);
      await cache.delete(keys.outer);
      svc.gate.hold();
      const { result, hits } = await CacheDetect.run(() => svc.get(1));
      expect(result).toBe('1#1');
      expect(hits).toEqual([expect.objectContaining({ key: keys.inner, stale: true, exception: 'CacheTimeoutError' })]);
      expect(await cache.exists(keys.outer)).toBe(false);

      // The held run finishes in the background and stores below only; the next call is an inner hit, not stored.
      svc.gate.release();
      await backgroundSettled();
      expect(await cache.exists(keys.outer)).toBe(false);
      expect(await svc.get(1)).toBe('1#2');
      await backgroundSettled();
      expect(await cache.exists(keys.outer)).toBe(false);
      expect(svc.calls).toBe(2);
    },
  );

  it.each(ERROR_OUTERS)(
    '@%s above a @Cache re-throwing a stored cacheErrors error: the outer layer stores nothing',
    async (outer) => {
      const svc = app.get<Above>(errorsAbove.get(outer)!);
      const keys = { outer: `SpErrO${outer}:1`, inner: `SpErrI${outer}:1` };
      svc.failWith = new SpNotFound('no item 1');
      // A real run that threw a listed error: both layers store it.
      expect(await rejection(svc.get(1))).toBeInstanceOf(SpNotFound);
      await backgroundSettled();
      expect([await cache.exists(keys.outer), await cache.exists(keys.inner)]).toEqual([true, true]);

      // Without the outer entry, the inner layer re-throws its stored error: a hit, not a run, so nothing above it.
      await cache.delete(keys.outer);
      const { result, hits } = await CacheDetect.run(() => rejection(svc.get(1)));
      expect(result).toBeInstanceOf(SpNotFound);
      expect(result).toMatchObject({ message: 'no item 1' });
      expect(hits).toEqual([expect.objectContaining({ key: keys.inner, error: 'SpNotFound' })]);
      await backgroundSettled();
      expect(await cache.exists(keys.outer)).toBe(false);
      expect(svc.calls).toBe(1);
    },
  );

  it('a controller: @Failover above @Cache does not keep a cache hit as its last good value', async () => {
    const controller = app.get(SpController);
    const server = app.getHttpServer();
    await request(server).get('/sp/fo/1').expect(200, { id: 1, run: 1 });
    expect([await cache.exists("SpHttpFoOut:'1'"), await cache.exists("SpHttpFoIn:'1'")]).toEqual([true, true]);
    await cache.delete("SpHttpFoOut:'1'");
    await request(server).get('/sp/fo/1').expect(200, { id: 1, run: 1 }); // the inner cache hit
    expect(await cache.exists("SpHttpFoOut:'1'")).toBe(false);
    // Nothing of its own to stand in: with the inner entry gone too, a failing handler fails the request.
    await cache.delete("SpHttpFoIn:'1'");
    controller.failing = true;
    await request(server).get('/sp/fo/1').expect(500);
    expect(controller.calls).toBe(2);
  });

  it('a controller: @Early above @Cache does not store a cache hit as a fresh value of its own', async () => {
    const server = app.getHttpServer();
    await request(server).get('/sp/early/1').expect(200, { id: 1, run: 1 });
    expect([await cache.exists("SpHttpEaOut:'1'"), await cache.exists("SpHttpEaIn:'1'")]).toEqual([true, true]);
    await cache.delete("SpHttpEaOut:'1'");
    await request(server).get('/sp/early/1').expect(200, { id: 1, run: 1 });
    await backgroundSettled();
    expect(await cache.exists("SpHttpEaOut:'1'")).toBe(false);
    // Once the handler really runs again, both layers store it.
    await cache.delete("SpHttpEaIn:'1'");
    await request(server).get('/sp/early/1').expect(200, { id: 1, run: 2 });
    await backgroundSettled();
    expect([await cache.exists("SpHttpEaOut:'1'"), await cache.exists("SpHttpEaIn:'1'")]).toEqual([true, true]);
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
