/**
 * `@Soft` on provider methods, inside a real Nest app, on mem:// and Redis db 8: the storing scenarios every
 * storing strategy shares (test/support/storing-scenarios.ts), then the stale answers, which only `@Soft` gives.
 * The age of a stored value is read from `Date`, faked alone here, so it is set exactly instead of slept for; the
 * hard ttl is kept by the backend in real time.
 * Every class name and key template here starts with "Sf" (see test/support/strategy-fixtures.ts).
 */
import { jest } from '@jest/globals';
import { Injectable, Logger } from '@nestjs/common';
import { CacheableClass, CacheDetect, Soft, type CacheService, type SoftDecoratorOptions } from '../../lib/index.js';
import { storingScenarios, type StoringStrategy } from '../support/storing-scenarios.js';
import {
  cleanup,
  closeApps,
  defaultKeyPattern,
  describeBackends,
  fakeClocks,
  heldCalls,
  readsOf,
  rejection,
  sleep,
  startApp,
  storedKey,
} from '../support/strategy-fixtures.js';

const TAG = 'Sf';

const SOFT: StoringStrategy = {
  name: 'soft',
  tag: TAG,
  serves: 'hit',
  envelope: true,
  hitCounter: false,
  stampedeLock: true,
  cacheErrors: true,
};

describeBackends('@Soft: storing scenarios', ({ url }) =>
  storingScenarios(SOFT, (options) => Soft(options as SoftDecoratorOptions), url),
);

class SfUpstreamError extends Error {
  override name = 'SfUpstreamError';
}
class SfOtherError extends Error {}

/** Registered, so a stored one comes back as itself. */
@CacheableClass({ name: 'SfMissingError' })
class SfMissingError extends Error {}

@Injectable()
class SfRates {
  calls = 0;
  gate?: Promise<void>;
  failWith?: Error;

  @Soft({ ttl: 1200, softTtl: 300 })
  async rates(id: number) {
    this.calls++;
    if (this.gate) await this.gate;
    if (this.failWith) throw this.failWith;
    return `${id}#${this.calls}`;
  }

  @Soft({ ttl: '5s', softTtl: 300, exceptions: [SfUpstreamError] })
  async only(id: number) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return `${id}#${this.calls}`;
  }

  /** A ttl from the arguments and no softTtl: each value is fresh for a third of its own ttl. */
  @Soft({ ttl: (_result, args) => args[1] as number })
  async byTtl(id: number, _ttl: number) {
    this.calls++;
    return `${id}#${this.calls}`;
  }

  /** A ttl from the arguments with a fixed softTtl, which every ttl it answers should exceed. */
  @Soft({ ttl: (_result, args) => args[1] as number, softTtl: 1_000 })
  async fixedAge(id: number, _ttl: number) {
    this.calls++;
    return `${id}#${this.calls}`;
  }

  /** Stale values stand in for any failure, but a SfMissingError is an answer: stored and thrown. */
  @Soft({ ttl: '5s', softTtl: 300, cacheErrors: [SfMissingError], errorTtl: '2s' })
  async item(id: string) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return `${id}#${this.calls}`;
  }
}

describeBackends('@Soft on a provider', ({ url }) => {
  let cache: CacheService;
  let svc: SfRates;

  beforeEach(async () => {
    await cleanup(url, TAG);
    const started = await startApp(url, [SfRates]);
    cache = started.cache;
    svc = started.app.get(SfRates);
    fakeClocks('Date');
  });
  afterEach(async () => {
    jest.useRealTimers();
    jest.restoreAllMocks();
    await closeApps();
  });

  /** Ages every stored value by `ms`. */
  const age = (ms: number) => jest.setSystemTime(Date.now() + ms);

  it('younger than softTtl: served from cache; at softTtl recomputed in the call', async () => {
    expect(await svc.rates(1)).toBe('1#1');
    age(299);
    expect(await svc.rates(1)).toBe('1#1');
    expect(svc.calls).toBe(1);
    age(1);
    expect(await svc.rates(1)).toBe('1#2');
    expect(await svc.rates(1)).toBe('1#2');
    expect(svc.calls).toBe(2);
  });

  it('a failing recompute serves the stale value (detected as stale) until ttl, then the error goes through', async () => {
    expect(await svc.rates(1)).toBe('1#1');
    age(500);
    const error = new SfUpstreamError('down');
    svc.failWith = error;
    const { result, hits } = await CacheDetect.run(() => svc.rates(1));
    expect(result).toBe('1#1');
    expect(hits).toEqual([
      expect.objectContaining({
        key: expect.stringMatching(defaultKeyPattern('SfRates:rates', '1')),
        strategy: 'soft',
        stale: true,
        exception: 'SfUpstreamError',
      }),
    ]);
    expect(await svc.rates(1)).toBe('1#1');
    expect(svc.calls).toBe(3); // every stale answer tried to recompute
    await sleep(1_300); // real time: the backend drops the value after the hard ttl of 1200 ms
    expect(await rejection(svc.rates(1))).toBe(error);
  });

  it('a successful recompute after failures stores the new value', async () => {
    await svc.rates(1);
    age(500);
    svc.failWith = new SfUpstreamError('down');
    expect(await svc.rates(1)).toBe('1#1');
    svc.failWith = undefined;
    expect(await svc.rates(1)).toBe('1#3');
    expect(await svc.rates(1)).toBe('1#3');
  });

  it('with exceptions, other errors go through even with a stale value', async () => {
    await svc.only(1);
    age(500);
    svc.failWith = new SfUpstreamError('down');
    expect(await svc.only(1)).toBe('1#1');
    const other = new SfOtherError('bug');
    svc.failWith = other;
    expect(await rejection(svc.only(1))).toBe(other);
  });

  it('concurrent stale callers share one failing recompute and all get the stale value', async () => {
    await svc.rates(1);
    age(500);
    svc.failWith = new SfUpstreamError('down');
    const reads = readsOf(cache);
    // Opened once all 20 callers have read the stale value and one of them runs the recompute.
    const settled = await heldCalls(
      svc,
      20,
      () => svc.rates(1),
      () => readsOf(cache) - reads >= 20 && svc.calls === 2,
    );
    expect(settled.every((outcome) => outcome.status === 'fulfilled' && outcome.value === '1#1')).toBe(true);
    expect(svc.calls).toBe(2);
  });

  it('with a ttl function and no softTtl, a value is fresh for a third of the ttl it was stored for', async () => {
    // Issue #12: the soft age was NaN with a ttl function, so every call recomputed.
    expect(await svc.byTtl(1, 3_000)).toBe('1#1');
    expect(await svc.byTtl(1, 3_000)).toBe('1#1');
    expect(await svc.byTtl(2, 9_000)).toBe('2#2');
    age(999);
    expect(await svc.byTtl(1, 3_000)).toBe('1#1');
    age(1);
    expect(await svc.byTtl(1, 3_000)).toBe('1#3');
    expect(await svc.byTtl(2, 9_000)).toBe('2#2');
    expect(svc.calls).toBe(3);
  });

  it('with a ttl function and softTtl, a ttl not above softTtl is logged once; such a value is fresh until it expires', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    expect(await svc.fixedAge(1, 800)).toBe('1#1');
    expect(await svc.fixedAge(2, 900)).toBe('2#2');
    expect(await svc.fixedAge(3, 5_000)).toBe('3#3');
    const about = logged.mock.calls.map((call) => String(call[0])).filter((line) => line.includes('softTtl'));
    expect(about).toHaveLength(1);
    expect(about[0]).toMatch(
      /@soft on SfRates\.fixedAge: the ttl function answered 800 ms, not above softTtl \(1000 ms\)/,
    );
    const now = Date.now();
    const envelope = async (id: string) =>
      (await cache.get(await storedKey(cache, 'SfRates:fixedAge', id))) as { at: number };
    expect((await envelope('1:800')).at).toBe(now + 800);
    expect((await envelope('3:5000')).at).toBe(now + 1_000);
    age(799);
    expect(await svc.fixedAge(1, 800)).toBe('1#1');
    age(201);
    expect(await svc.fixedAge(3, 5_000)).toBe('3#4');
  });

  it('a cacheErrors error from a recompute is an answer: stored and thrown, not absorbed by exceptions', async () => {
    expect(await svc.item('a')).toBe('a#1');
    age(500);
    const missing = new SfMissingError('item a is gone');
    svc.failWith = missing;
    const { result: thrown, hits } = await CacheDetect.run(() => rejection(svc.item('a')));
    expect(thrown).toBe(missing);
    expect(hits).toEqual([]);
    svc.failWith = new SfUpstreamError('down');
    // A stored error is fresh until errorTtl: served without running, and never replaced by a stale value.
    const served = await rejection(svc.item('a'));
    expect(served).toBeInstanceOf(SfMissingError);
    expect((served as Error).message).toBe('item a is gone');
    expect(svc.calls).toBe(2);
    const left = await cache.getExpire(await storedKey(cache, 'SfRates:item', 'a'));
    expect(left).toBeGreaterThan(1_000);
    expect(left).toBeLessThanOrEqual(2_000);
  });
});
