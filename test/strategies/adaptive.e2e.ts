/**
 * `@Adaptive` inside a real Nest application, on mem:// and Redis db 8, on a provider and on a controller: the
 * decision follows the workload (cache for repeated arguments with stable results, nothing for unique arguments, a
 * fallback and then a circuit when the upstream fails), is visible in `cache.stats()`, and each change is logged.
 * Windows are read from `Date`, which is faked alone (fakeClocks): the test moves from window to window without
 * sleeping, while TTLs, Redis and timers keep real time. Every class name and key starts with "Ad".
 */
import {
  Controller,
  ForbiddenException,
  Get,
  Injectable,
  Logger,
  NotFoundException,
  Param,
  ServiceUnavailableException,
  type INestApplication,
} from '@nestjs/common';
import { jest } from '@jest/globals';
import request from 'supertest';
import {
  Adaptive,
  Cache,
  CacheDetect,
  CircuitOpenError,
  Failover,
  Invalidate,
  type AdaptiveStats,
  type CacheService,
} from '../../lib/index.js';
import { CashewsRegistry } from '../../lib/cashews.registry.js';
import { engineOf } from '../../lib/engine/engine-of.js';
import {
  cleanup,
  closeApps,
  describeBackends,
  fakeClocks,
  keysOf,
  readsOf,
  rejection,
  startApp,
} from '../support/strategy-fixtures.js';

const TAG = 'Ad';
const WINDOW = 1000;

class AdUpstreamError extends Error {}

@Injectable()
class AdCatalogue {
  runs = 0;
  /** Share of runs that fail, taken in turn (0.3: 3 of every 10). */
  failing = 0;
  version = 'v1';

  @Adaptive({ maxTtl: '1m', window: WINDOW, fleet: false, key: 'AdItem:{id}' })
  async item(id: number) {
    this.runs++;
    return { id, version: this.version };
  }

  /** A default key over two arguments, the second one chosen by callers (see the collision test). */
  @Adaptive({ maxTtl: '1m', window: WINDOW, fleet: false })
  async owned(id: number, view?: string) {
    this.runs++;
    return view === undefined ? `private data of ${id}` : `public ${view} of ${id}`;
  }

  /** A slow method (for slowRun 1 ms): its hot keys get an early refresh. */
  @Adaptive({ maxTtl: '1m', window: WINDOW, fleet: false, slowRun: '1ms', key: 'AdSlow:{id}' })
  async slow(id: number) {
    this.runs++;
    await new Promise((resolve) => setTimeout(resolve, 3));
    return { id, version: this.version };
  }

  /** Shared with the fleet (on mem:// the fleet is this one process): windows are exchanged through the backend. */
  @Adaptive({ maxTtl: '1m', window: WINDOW, key: 'AdShared:{id}' })
  async shared(id: number) {
    this.runs++;
    return { id };
  }

  @Adaptive({ maxTtl: '1m', window: WINDOW, fleet: false, key: 'AdQuote:{id}', exceptions: [AdUpstreamError] })
  async quote(id: number) {
    this.runs++;
    if (this.failing > 0 && (this.runs % 10) / 10 < this.failing) throw new AdUpstreamError('upstream down');
    // A new price on every run: never worth caching.
    return { id, price: this.runs };
  }
}

/**
 * The in-process fallback of `@Adaptive` beside `@Failover`: both answer a failure with the key's last good value, and
 * request directives and the run-time switch must treat them alike.
 */
@Injectable()
class AdFallbacks {
  down = false;
  version = 'committed';

  @Adaptive({ maxTtl: '1m', window: WINDOW, fleet: false, key: 'AdFbA:{id}' })
  async adaptive(id: number) {
    if (this.down) throw new AdUpstreamError('upstream down');
    return { id, version: this.version };
  }

  /** What `answer` and `answerAny` throw, when set. */
  failure?: Error;

  @Adaptive({ maxTtl: '1m', window: WINDOW, fleet: false, key: 'AdFbN:{id}' })
  async answer(id: number) {
    if (this.failure) throw this.failure;
    return { id };
  }

  /** Every error falls back, client errors too: named in `exceptions`. */
  @Adaptive({ maxTtl: '1m', window: WINDOW, fleet: false, key: 'AdFbY:{id}', exceptions: () => true })
  async answerAny(id: number) {
    if (this.failure) throw this.failure;
    return { id };
  }

  @Failover({ ttl: '1m', key: 'AdFbF:{id}' })
  async failover(id: number) {
    if (this.down) throw new AdUpstreamError('upstream down');
    return { id };
  }
}

/** A plain `@Cache` on the explicit key of `AdCatalogue.item`: what the README tells not to do, and why. */
@Injectable()
class AdPlainItem {
  @Cache({ ttl: '1m', key: 'AdItem:{id}' })
  async item(id: number) {
    return { id, plain: true };
  }
}

/** Invalidates AdCatalogue's adaptive methods: every entry a decision stored goes, beside the call's own key too. */
@Injectable()
class AdAdmin {
  @Invalidate([AdCatalogue, 'item'])
  async renameItem(id: number) {
    void id;
  }

  @Invalidate([AdCatalogue, 'slow'])
  async renameSlow(id: number) {
    void id;
  }

  @Invalidate([AdCatalogue, 'quote'])
  async repriceQuote(id: number) {
    void id;
  }
}

@Controller('ad')
class AdController {
  runs = 0;

  @Get('product/:id')
  @Adaptive({ maxTtl: '1m', window: WINDOW, fleet: false, key: 'AdRoute:{id}' })
  async product(@Param('id') id: string) {
    this.runs++;
    return { id, name: `product ${id}` };
  }
}

/** The `@Adaptive` row of a method in `cache.stats()`. */
function adaptiveRow(cache: CacheService, method: string): AdaptiveStats | undefined {
  return cache.stats().methods.find((row) => row.method === method && row.strategy === 'adaptive')?.adaptive;
}

/** The next observation window (Date only). */
function nextWindow(): void {
  jest.setSystemTime(Date.now() + WINDOW);
}

describeBackends('@Adaptive', ({ url }) => {
  let app: INestApplication;
  let cache: CacheService;
  let catalogue: AdCatalogue;
  let logs: string[];

  beforeEach(async () => {
    await cleanup(url, TAG);
    fakeClocks('Date');
    logs = [];
    jest.spyOn(Logger.prototype, 'log').mockImplementation(function (this: Logger, message: unknown) {
      logs.push(String(message));
    });
    const started = await startApp(url, [AdCatalogue, AdAdmin, AdFallbacks, AdPlainItem], {
      controllers: [AdController],
    });
    app = started.app;
    cache = started.cache;
    catalogue = started.app.get(AdCatalogue);
  });
  afterEach(async () => {
    await closeApps();
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  it('on a provider: caches repeated arguments with stable results once observed, and says so', async () => {
    for (let window = 0; window < 3; window++) {
      for (let i = 0; i < 30; i++) await catalogue.item(i % 3);
      nextWindow();
    }
    await catalogue.item(0); // the first call of a window closes the previous one
    const row = adaptiveRow(cache, 'AdCatalogue.item');
    expect(row).toMatchObject({ strategy: 'cache', store: 'cache', guard: 'none', shared: false });
    // Slow start: decided after two windows with a TTL of two windows, doubled after the third.
    expect(row?.ttlMs).toBe(4 * WINDOW);
    expect(row?.repeatRatio).toBeGreaterThan(0.9);
    expect(
      logs.some((line) =>
        /@adaptive on AdCatalogue\.item: now cache \(ttl 2s\), was no cache: 9\d% of calls repeat/.test(line),
      ),
    ).toBe(true);

    const before = catalogue.runs;
    for (let i = 0; i < 20; i++) await catalogue.item(i % 3);
    expect(catalogue.runs - before).toBeLessThanOrEqual(3); // one run per key at most, then hits
    expect(await keysOf(cache, 'AdItem:*')).toEqual(
      expect.arrayContaining(['AdItem:0:%adaptive', 'AdItem:0:%failover']),
    );
    // @Invalidate of the method deletes the last good value with the entry: nothing stale survives a change.
    await app.get(AdAdmin).renameItem(0);
    expect(await keysOf(cache, 'AdItem:0*')).toEqual([]);
  });

  it('stores its entries under a key of its own: a plain @Cache on the same key never reads them, nor they its values', async () => {
    for (let window = 0; window < 3; window++) {
      for (let i = 0; i < 30; i++) await catalogue.item(i % 3);
      nextWindow();
    }
    await catalogue.item(0);
    expect(adaptiveRow(cache, 'AdCatalogue.item')).toMatchObject({ store: 'cache' });
    await catalogue.item(5); // stored under the cached decision
    // A plain @Cache on the same explicit key answers its own value, not the @Adaptive envelope.
    await expect(app.get(AdPlainItem).item(5)).resolves.toEqual({ id: 5, plain: true });
    // A user's value that looks like an @Adaptive envelope under the call's key is not served by @Adaptive.
    await cache.set('AdItem:6', { v: { id: 6, version: 'planted' }, at: Date.now() + 60_000, w: Date.now() });
    const runs = catalogue.runs;
    await expect(catalogue.item(6)).resolves.toEqual({ id: 6, version: 'v1' });
    expect(catalogue.runs).toBe(runs + 1);
  });

  it("its own entries (last good value, early envelope) are never another call's: owned(42, 'failover')", async () => {
    for (let window = 0; window < 3; window++) {
      for (let i = 0; i < 30; i++) await catalogue.owned(i % 3);
      nextWindow();
    }
    await catalogue.owned(0);
    expect(adaptiveRow(cache, 'AdCatalogue.owned')).toMatchObject({ store: 'cache' });
    await expect(catalogue.owned(42)).resolves.toBe('private data of 42'); // stores the value and a last good value
    for (const view of ['failover', 'early', '%failover', 'adaptive', '%adaptive'])
      await expect(catalogue.owned(42, view)).resolves.toBe(`public ${view} of 42`);
  });

  it('refreshes hot keys of a slow method early: callers keep the current value while one run refreshes it', async () => {
    for (let window = 0; window < 3; window++) {
      for (let i = 0; i < 30; i++) await catalogue.slow(i % 3);
      nextWindow();
    }
    await catalogue.slow(0);
    const row = adaptiveRow(cache, 'AdCatalogue.slow');
    expect(row).toMatchObject({ strategy: 'early', store: 'early' });
    for (let i = 0; i < 3; i++) await catalogue.slow(i); // stored as early envelopes
    expect(await keysOf(cache, 'AdSlow:*:%early')).toEqual(['AdSlow:0:%early', 'AdSlow:1:%early', 'AdSlow:2:%early']);
    await app.get(AdAdmin).renameSlow(2);
    expect(await keysOf(cache, 'AdSlow:2*')).toEqual([]);
    // Past two thirds of the TTL (Date): the next call answers the current value and refreshes in the background.
    catalogue.version = 'v2';
    jest.setSystemTime(Date.now() + Math.ceil(((row?.ttlMs ?? 0) * 2) / 3) + 1);
    const runs = catalogue.runs;
    expect(await catalogue.slow(0)).toEqual({ id: 0, version: 'v1' });
    await app.get(CashewsRegistry).settled();
    expect(catalogue.runs).toBe(runs + 1);
    expect(await catalogue.slow(0)).toEqual({ id: 0, version: 'v2' });
  });

  it('does not cache unique arguments, nor results that change on every run', async () => {
    for (let window = 0; window < 4; window++) {
      for (let i = 0; i < 30; i++) {
        await catalogue.item(1000 + window * 100 + i);
        await catalogue.quote(i % 3);
      }
      nextWindow();
    }
    await catalogue.item(0);
    await catalogue.quote(0);
    expect(adaptiveRow(cache, 'AdCatalogue.item')).toMatchObject({ strategy: 'none', repeatRatio: 0 });
    const quote = adaptiveRow(cache, 'AdCatalogue.quote');
    expect(quote).toMatchObject({ strategy: 'none', store: 'none' });
    expect(quote?.changeIntervalMs).toBeLessThan(1000);
    expect(await keysOf(cache, 'Ad*')).toEqual([]);
  });

  it('falls back to the last good value when failures rise, then fails fast behind a circuit', async () => {
    for (let i = 0; i < 30; i++) await catalogue.quote(i % 3);
    nextWindow();
    catalogue.failing = 0.3;
    // Within the window failures start: the fallback in the backend goes on after the fifth failure. Before that, the
    // last good results kept in process answer: no caller whose key had an answer gets the error.
    const errors: unknown[] = [];
    for (let i = 0; i < 30; i++) await catalogue.quote(i % 3).catch((error: unknown) => errors.push(error));
    expect(adaptiveRow(cache, 'AdCatalogue.quote')?.guard).toBe('failover');
    expect(errors).toEqual([]);
    // From then on, a caller whose key has a last good value gets it instead of the error.
    const late: unknown[] = [];
    const served: unknown[] = [];
    for (let i = 0; i < 30; i++)
      await catalogue.quote(i % 3).then(
        (v) => served.push(v),
        (e: unknown) => late.push(e),
      );
    expect(late).toEqual([]);
    expect(served).toHaveLength(30);

    // Everything fails for windows in a row: a circuit. Keys with a last good value still get it, without a run.
    catalogue.failing = 1;
    for (let window = 0; window < 3; window++) {
      nextWindow();
      for (let i = 0; i < 20; i++) await catalogue.quote(i % 3).catch(() => undefined);
    }
    nextWindow();
    await catalogue.quote(0);
    expect(adaptiveRow(cache, 'AdCatalogue.quote')?.strategy).toBe('circuit');
    for (let i = 0; i < 20; i++) await catalogue.quote(i % 3);
    const runs = catalogue.runs;
    expect(await catalogue.quote(1)).toMatchObject({ id: 1 });
    expect(catalogue.runs).toBe(runs); // open circuit: served from the fallback, the upstream left alone
    expect(await rejection(catalogue.quote(99))).toBeInstanceOf(CircuitOpenError); // nothing to fall back to
    expect(logs.some((line) => /AdCatalogue\.quote: now no cache \+ failover \+ circuit breaker/.test(line))).toBe(
      true,
    );
  });

  it("exchanges with the fleet outside the caller's transaction: a rollback does not undo the counters", async () => {
    const index = Math.floor(Date.now() / WINDOW);
    for (let i = 0; i < 30; i++) await catalogue.shared(i % 3);
    nextWindow();
    const counter = `AdCatalogue:shared:adaptive:w:${index}:calls`;
    await cache.transaction(async (tx) => {
      // The first call of a window sends the closed one, in the background, while the transaction is still open.
      await catalogue.shared(0);
      await app.get(CashewsRegistry).settled();
      tx.rollback();
    });
    expect(await cache.get(counter)).toBe(30);
  });

  it('exchanges with the fleet past request directives: a no-cache, Clear-Site-Data request leaves the counters', async () => {
    for (let window = 0; window < 2; window++) {
      for (let i = 0; i < 30; i++) await catalogue.shared(i % 3);
      nextWindow();
    }
    // The first call of this window sends the last one and decides the one before (30 calls), under the directives.
    const scope = CacheDetect.scope({ noCache: true, clearSiteData: true });
    await CacheDetect.within(scope, () => catalogue.shared(0));
    await app.get(CashewsRegistry).settled();
    const state = (await engineOf(cache).readState('AdCatalogue:shared:adaptive:state')) as {
      smoothed: { calls: number };
    };
    expect(state.smoothed.calls).toBe(30);
    expect(await cache.get(`AdCatalogue:shared:adaptive:w:${Math.floor(Date.now() / WINDOW) - 1}:calls`)).toBe(30);
  });

  it('after the TTL was lowered: an entry older than the new TTL is a miss, a younger one reports its real age', async () => {
    const engine = engineOf(cache);
    /** The fleet's decision, stored as its decider would, adopted at the exchange the next call starts. */
    const decide = async (ttl: number) => {
      const decision = { store: 'cache', ttl, refreshAfter: 0, guard: 'none', reason: 'set by the test', since: 0 };
      const window = Math.floor(Date.now() / WINDOW) + 1000;
      await engine.writeState(
        'AdCatalogue:shared:adaptive:state',
        { window, smoothed: {}, tuner: { decision } },
        60_000,
      );
      nextWindow();
      await catalogue.shared(99);
      await app.get(CashewsRegistry).settled();
      expect(adaptiveRow(cache, 'AdCatalogue.shared')).toMatchObject({ store: 'cache', ttlMs: ttl, shared: true });
    };
    await catalogue.shared(99); // the method's tuner starts watching
    await decide(60_000);
    await catalogue.shared(1); // stored for 60 s
    jest.setSystemTime(Date.now() + 4000);
    await decide(10_000); // and a window later: 5 s old
    const runs = catalogue.runs;
    const hit = await CacheDetect.run(() => catalogue.shared(1));
    expect(catalogue.runs).toBe(runs);
    expect(hit.hits).toEqual([
      expect.objectContaining({ key: 'AdShared:1:%adaptive', strategy: 'cache', age: 5000, ttl: 5000 }),
    ]);
    jest.setSystemTime(Date.now() + 5000); // 10 s old: as old as the TTL now allows
    const miss = await CacheDetect.run(() => catalogue.shared(1));
    expect(catalogue.runs).toBe(runs + 1);
    expect(miss.hits).toEqual([]);
  });

  it('under a cached decision an entry written further ahead than clocks drift is a miss, on the hit path too', async () => {
    const engine = engineOf(cache);
    const decision = {
      store: 'cache',
      ttl: 60_000,
      refreshAfter: 0,
      guard: 'none',
      reason: 'set by the test',
      since: 0,
    };
    await catalogue.shared(99); // the method's tuner starts watching
    const window = Math.floor(Date.now() / WINDOW) + 1000;
    await engine.writeState('AdCatalogue:shared:adaptive:state', { window, smoothed: {}, tuner: { decision } }, 60_000);
    nextWindow();
    await catalogue.shared(99);
    await app.get(CashewsRegistry).settled();
    expect(adaptiveRow(cache, 'AdCatalogue.shared')).toMatchObject({ store: 'cache', ttlMs: 60_000 });
    const ahead = Date.now() + 3_600_000; // an hour ahead: it would be fresh for an hour and a minute
    await cache.set('AdShared:7:%adaptive', { v: { id: 'planted' }, at: ahead + 60_000, w: ahead }, { ttl: 60_000 });
    const runs = catalogue.runs;
    await expect(catalogue.shared(7)).resolves.toEqual({ id: 7 });
    expect(catalogue.runs).toBe(runs + 1);
  });

  it('under a cached decision a call reads the backend once, hit or miss', async () => {
    for (let window = 0; window < 3; window++) {
      for (let i = 0; i < 30; i++) await catalogue.item(i % 3);
      nextWindow();
    }
    await catalogue.item(0); // the first call of a window closes the previous one
    expect(adaptiveRow(cache, 'AdCatalogue.item')).toMatchObject({ store: 'cache' });
    const runs = catalogue.runs;
    let reads = readsOf(cache);
    await expect(catalogue.item(1)).resolves.toEqual({ id: 1, version: 'v1' });
    expect([readsOf(cache) - reads, catalogue.runs - runs]).toEqual([1, 0]);
    reads = readsOf(cache);
    await expect(catalogue.item(7)).resolves.toEqual({ id: 7, version: 'v1' });
    // The chain takes the read the hit path made: no second read before the run.
    expect([readsOf(cache) - reads, catalogue.runs - runs]).toEqual([1, 1]);
  });

  it('a first failure falls back on the last good result kept in process, with no write to the backend', async () => {
    for (let i = 0; i < 3; i++) await catalogue.quote(i);
    catalogue.failing = 1;
    const { result, hits } = await CacheDetect.run(() => catalogue.quote(1));
    expect(result).toEqual({ id: 1, price: 2 });
    expect(hits).toEqual([
      expect.objectContaining({ key: 'AdQuote:1', strategy: 'failover', stale: true, exception: 'AdUpstreamError' }),
    ]);
    // One failure: the fallback in the backend is still off, and nothing was stored for it.
    expect(adaptiveRow(cache, 'AdCatalogue.quote')).toMatchObject({ store: 'none', guard: 'none' });
    expect(await keysOf(cache, 'AdQuote*')).toEqual([]);
    // A key that never answered has nothing to fall back on; one older than maxStaleness (1 minute) neither.
    expect(await rejection(catalogue.quote(7))).toBeInstanceOf(AdUpstreamError);
    jest.setSystemTime(Date.now() + 60_001);
    expect(await rejection(catalogue.quote(1))).toBeInstanceOf(AdUpstreamError);
    // @Invalidate naming the method drops the kept result with the entries: nothing from before it stands in.
    catalogue.failing = 0;
    await catalogue.quote(2);
    await app.get(AdAdmin).repriceQuote(2);
    catalogue.failing = 1;
    expect(await rejection(catalogue.quote(2))).toBeInstanceOf(AdUpstreamError);
  });

  it('the last good result kept in process: every failure is answered with a copy of its own', async () => {
    await catalogue.quote(3);
    catalogue.failing = 1;
    const first = (await catalogue.quote(3)) as { id: number; price: number; note?: string };
    first.note = 'changed by the first caller';
    const second = await catalogue.quote(3);
    expect(second).toEqual({ id: 3, price: 1 });
    expect(second).not.toBe(first);
  });

  it('the last good result kept in process honours request directives and the run-time switch as @Failover does', async () => {
    const fallbacks = app.get(AdFallbacks);
    type Around = <T>(fn: () => Promise<T>) => Promise<T>;
    const plain: Around = (fn) => fn();
    const directed =
      (directives: Parameters<typeof CacheDetect.scope>[0]): Around =>
      (fn) =>
        CacheDetect.within(CacheDetect.scope(directives), fn);
    const switchedOff =
      (command: 'get' | 'set'): Around =>
      (fn) =>
        cache.disabling([command], fn);
    /** How each decorator answers a failure: the result kept under `keep`, the failure under `fail`. */
    const outcomes = async (id: number, keep: Around, fail: Around, wait = 0) => {
      fallbacks.down = false;
      // Successes of other keys: the failures of this test stay under the rate that turns the backend fallback on.
      for (let i = 0; i < 20; i++) await fallbacks.adaptive(1000 + i);
      await keep(() => fallbacks.adaptive(id));
      await keep(() => fallbacks.failover(id));
      if (wait) {
        await new Promise((resolve) => setTimeout(resolve, wait));
        jest.setSystemTime(Date.now() + wait);
      }
      fallbacks.down = true;
      const answer = (fn: () => Promise<unknown>) =>
        fail(fn).then(
          () => 'served',
          () => 'threw',
        );
      return [await answer(() => fallbacks.adaptive(id)), await answer(() => fallbacks.failover(id))];
    };
    expect(await outcomes(1, plain, plain)).toEqual(['served', 'served']);
    expect(await outcomes(2, plain, directed({ noCache: true }))).toEqual(['threw', 'threw']);
    expect(await outcomes(3, plain, directed({ noStore: true }))).toEqual(['threw', 'threw']);
    expect(await outcomes(4, directed({ noStore: true }), plain)).toEqual(['threw', 'threw']);
    expect(await outcomes(5, directed({ noCache: true }), plain)).toEqual(['served', 'served']);
    expect(await outcomes(6, plain, directed({ clearSiteData: true }))).toEqual(['threw', 'threw']);
    expect(await outcomes(6, directed({ noStore: true }), plain)).toEqual(['threw', 'threw']); // and it is gone
    expect(await outcomes(7, plain, directed({ maxAge: 20 }), 60)).toEqual(['threw', 'threw']);
    expect(await outcomes(8, plain, directed({ maxAge: 60_000 }), 60)).toEqual(['served', 'served']);
    expect(await outcomes(9, plain, switchedOff('get'))).toEqual(['threw', 'threw']);
    expect(await outcomes(10, switchedOff('set'), plain)).toEqual(['threw', 'threw']);
    expect(adaptiveRow(cache, 'AdFallbacks.adaptive')).toMatchObject({ guard: 'none' });
  });

  it("keeps nothing in process from inside a caller's transaction: a rolled-back result is never served", async () => {
    const fallbacks = app.get(AdFallbacks);
    await cache.transaction(async (tx) => {
      fallbacks.version = 'rolled back';
      await fallbacks.adaptive(1);
      tx.rollback();
    });
    fallbacks.version = 'committed';
    fallbacks.down = true;
    expect(await rejection(fallbacks.adaptive(1))).toBeInstanceOf(AdUpstreamError);
    // Outside any transaction the result is kept as before.
    fallbacks.down = false;
    await fallbacks.adaptive(1);
    fallbacks.down = true;
    await expect(fallbacks.adaptive(1)).resolves.toEqual({ id: 1, version: 'committed' });
  });

  it('answers a client error (HTTP 4xx) with the error, not the last good result, unless exceptions name it', async () => {
    const fallbacks = app.get(AdFallbacks);
    await fallbacks.answer(1);
    await fallbacks.answerAny(1);
    for (const failure of [new NotFoundException('gone'), new ForbiddenException()]) {
      fallbacks.failure = failure;
      expect(await rejection(fallbacks.answer(1))).toBe(failure);
      await expect(fallbacks.answerAny(1)).resolves.toEqual({ id: 1 });
    }
    // A server error is an outage: the last good result answers it; so does an error whose getStatus() throws.
    fallbacks.failure = new ServiceUnavailableException();
    await expect(fallbacks.answer(1)).resolves.toEqual({ id: 1 });
    const getStatus = () => {
      throw new Error('no status');
    };
    fallbacks.failure = Object.assign(new AdUpstreamError('odd'), { getStatus });
    await expect(fallbacks.answer(1)).resolves.toEqual({ id: 1 });
  });

  it('on a controller: the same decisions through the HTTP interceptor', async () => {
    const http = request(app.getHttpServer());
    const controller = app.get(AdController);
    for (let window = 0; window < 3; window++) {
      for (let i = 0; i < 30; i++) expect((await http.get(`/ad/product/${i % 3}`)).status).toBe(200);
      nextWindow();
    }
    expect((await http.get('/ad/product/0')).body).toEqual({ id: '0', name: 'product 0' });
    expect(adaptiveRow(cache, 'AdController.product')).toMatchObject({ strategy: 'cache', ttlMs: 4 * WINDOW });
    const before = controller.runs;
    for (let i = 0; i < 20; i++) expect((await http.get(`/ad/product/${i % 3}`)).body.id).toBe(String(i % 3));
    expect(controller.runs - before).toBeLessThanOrEqual(3);
  });
});
