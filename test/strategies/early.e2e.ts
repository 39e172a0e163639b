/**
 * `@Early` on provider methods, inside a real Nest app, on mem:// and Redis db 8: the storing scenarios every
 * storing strategy shares (test/support/storing-scenarios.ts), then the early refresh, which only `@Early` does.
 * The age of a stored value is read from `Date`, faked alone here, so it is set exactly instead of slept for.
 * Every class name and key template here starts with "Er" (see test/support/strategy-fixtures.ts).
 */
import { jest } from '@jest/globals';
import { Injectable, Logger } from '@nestjs/common';
import {
  backgroundSettled,
  CacheableClass,
  CacheDetect,
  Early,
  type CacheService,
  type EarlyDecoratorOptions,
} from '../../lib/index.js';
import { storingScenarios, type StoringStrategy } from '../support/storing-scenarios.js';
import {
  cleanup,
  closeApps,
  describeBackends,
  deferred,
  fakeClocks,
  rejection,
  sleep,
  startApp,
  storedKey,
} from '../support/strategy-fixtures.js';

const TAG = 'Er';

const EARLY: StoringStrategy = {
  name: 'early',
  tag: TAG,
  serves: 'hit',
  envelope: true,
  hitCounter: false,
  stampedeLock: true,
  cacheErrors: true,
};

describeBackends('@Early: storing scenarios', ({ url }) =>
  storingScenarios(EARLY, (options) => Early(options as EarlyDecoratorOptions), url),
);

@CacheableClass({ name: 'ErMissingError' })
class ErMissingError extends Error {}

class ErUpstreamError extends Error {
  override name = 'ErUpstreamError';
}

@Injectable()
class ErCatalogue {
  calls = 0;
  gate?: Promise<void>;
  failWith?: Error;

  private async answer(id: number | string) {
    this.calls++;
    if (this.gate) await this.gate;
    if (this.failWith) throw this.failWith;
    return `${id}#${this.calls}`;
  }

  @Early({ ttl: '2s', earlyTtl: 600 })
  async list(id: number) {
    return this.answer(id);
  }

  /** A ttl from the arguments and no earlyTtl: each value is refreshed after a third of its own ttl. */
  @Early({ ttl: (_result, args) => args[1] as number })
  async byTtl(id: number, _ttl: number) {
    return this.answer(id);
  }

  /** A ttl from the arguments with a fixed earlyTtl, which every ttl it answers should exceed. */
  @Early({ ttl: (_result, args) => args[1] as number, earlyTtl: 1_000 })
  async fixedAge(id: number, _ttl: number) {
    return this.answer(id);
  }

  /** An earlyTtl shorter than a slow refresh (it was the lock's ttl). */
  @Early({ ttl: '10s', earlyTtl: 200 })
  async quick(id: number) {
    return this.answer(id);
  }

  /** The same with a lockTtl shorter than the refresh: the lock expires while it runs. */
  @Early({ ttl: '10s', earlyTtl: 200, lockTtl: 100 })
  async shortLock(id: number) {
    return this.answer(id);
  }

  @Early({ ttl: '2s', earlyTtl: 600, background: false })
  async waited(id: number) {
    return this.answer(id);
  }

  @Early({ ttl: '2s', earlyTtl: 600, cacheErrors: [ErMissingError] })
  async missing(id: string) {
    return this.answer(id);
  }
}

describeBackends('@Early on a provider', ({ url }) => {
  let svc: ErCatalogue;
  let cache: CacheService;

  beforeEach(async () => {
    await cleanup(url, TAG);
    const started = await startApp(url, [ErCatalogue]);
    svc = started.app.get(ErCatalogue);
    cache = started.cache;
    fakeClocks('Date');
  });
  afterEach(async () => {
    jest.useRealTimers();
    jest.restoreAllMocks();
    await backgroundSettled();
    await closeApps();
  });

  /** Ages every stored value by `ms` (the hard ttl, kept by the backend in real time, is not touched). */
  const age = (ms: number) => jest.setSystemTime(Date.now() + ms);

  it('younger than earlyTtl: served from cache, no refresh; at earlyTtl one refresh starts', async () => {
    expect(await svc.list(1)).toBe('1#1');
    age(599);
    expect(await svc.list(1)).toBe('1#1');
    await backgroundSettled();
    expect(svc.calls).toBe(1);
    age(1);
    expect(await svc.list(1)).toBe('1#1');
    await backgroundSettled();
    expect(svc.calls).toBe(2);
    expect(await svc.list(1)).toBe('1#2');
  });

  it('after earlyTtl: the old value is answered at once and a background refresh stores a new one', async () => {
    expect(await svc.list(1)).toBe('1#1');
    age(800);
    const gate = deferred();
    svc.gate = gate.promise;
    // Answers although the refresh is held open: the caller never waits for it.
    expect(await svc.list(1)).toBe('1#1');
    gate.resolve();
    svc.gate = undefined;
    await backgroundSettled();
    expect(svc.calls).toBe(2);
    expect(await svc.list(1)).toBe('1#2');
    expect(svc.calls).toBe(2);
    // The refreshed value is fresh again: no further refresh right away.
    await backgroundSettled();
    expect(svc.calls).toBe(2);
  });

  it('concurrent calls in the early window trigger one refresh', async () => {
    await svc.list(1);
    age(800);
    const results = await Promise.all(Array.from({ length: 30 }, () => svc.list(1)));
    expect(results.every((r) => r === '1#1')).toBe(true);
    await backgroundSettled();
    expect(svc.calls).toBe(2);
    expect(await svc.list(1)).toBe('1#2');
  });

  it('sequential calls while a refresh runs trigger no second one', async () => {
    await svc.list(1);
    age(800);
    const gate = deferred();
    svc.gate = gate.promise;
    for (let i = 0; i < 5; i++) expect(await svc.list(1)).toBe('1#1');
    gate.resolve();
    svc.gate = undefined;
    await backgroundSettled();
    expect(svc.calls).toBe(2);
  });

  it.each(['quick', 'shortLock'] as const)(
    '%s: a refresh slower than earlyTtl is the only one while it runs; the next one starts when due',
    async (method) => {
      expect(await svc[method](1)).toBe('1#1');
      age(250);
      const gate = deferred();
      svc.gate = gate.promise;
      expect(await svc[method](1)).toBe('1#1'); // starts the refresh, held open
      for (let i = 0; i < 4; i++) {
        await sleep(100); // real time: the lock's ttl (earlyTtl before, lockTtl here) passes
        expect(await svc[method](1)).toBe('1#1');
      }
      gate.resolve();
      svc.gate = undefined;
      await backgroundSettled();
      expect(svc.calls).toBe(2);
      expect(await svc[method](1)).toBe('1#2');
      await backgroundSettled();
      expect(svc.calls).toBe(2);
      // The lock ended with the refresh: the new value is refreshed once it is older than earlyTtl.
      age(250);
      expect(await svc[method](1)).toBe('1#2');
      await backgroundSettled();
      expect(svc.calls).toBe(3);
    },
  );

  it('a failed background refresh keeps the old value and lets the next call retry', async () => {
    await svc.list(1);
    age(800);
    svc.failWith = new Error('upstream down');
    expect(await svc.list(1)).toBe('1#1');
    await backgroundSettled();
    expect(svc.calls).toBe(2);
    svc.failWith = undefined;
    expect(await svc.list(1)).toBe('1#1');
    await backgroundSettled();
    expect(svc.calls).toBe(3);
    expect(await svc.list(1)).toBe('1#3');
  });

  it('with a ttl function and no earlyTtl, a value is refreshed after a third of the ttl it was stored for', async () => {
    // Issue #12: the refresh age was NaN with a ttl function, so such a value was never refreshed.
    expect(await svc.byTtl(1, 3_000)).toBe('1#1');
    expect(await svc.byTtl(2, 9_000)).toBe('2#2');
    age(999);
    expect(await svc.byTtl(1, 3_000)).toBe('1#1');
    await backgroundSettled();
    expect(svc.calls).toBe(2);
    age(1);
    expect(await svc.byTtl(1, 3_000)).toBe('1#1');
    expect(await svc.byTtl(2, 9_000)).toBe('2#2'); // a third of 9 s is not over yet
    await backgroundSettled();
    expect(svc.calls).toBe(3);
    expect(await svc.byTtl(1, 3_000)).toBe('1#3');
  });

  it('with a ttl function and earlyTtl, a ttl not above earlyTtl is logged once; such a value is not refreshed early', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    expect(await svc.fixedAge(1, 800)).toBe('1#1');
    expect(await svc.fixedAge(2, 1_000)).toBe('2#2');
    expect(await svc.fixedAge(3, 5_000)).toBe('3#3');
    const about = logged.mock.calls.map((call) => String(call[0])).filter((line) => line.includes('earlyTtl'));
    expect(about).toHaveLength(1);
    expect(about[0]).toMatch(
      /@early on ErCatalogue\.fixedAge: the ttl function answered 800 ms, not above earlyTtl \(1000 ms\)/,
    );
    // Stored without an early refresh: its refresh time is its expiry. A ttl above earlyTtl refreshes after it.
    const now = Date.now();
    const envelope = async (id: string) =>
      (await cache.get(await storedKey(cache, 'ErCatalogue:fixedAge', id))) as { at: number };
    expect((await envelope('1:800')).at).toBe(now + 800);
    expect((await envelope('2:1000')).at).toBe(now + 1_000);
    expect((await envelope('3:5000')).at).toBe(now + 1_000);
    age(799);
    expect(await svc.fixedAge(1, 800)).toBe('1#1');
    await backgroundSettled();
    expect(svc.calls).toBe(3);
    age(201);
    expect(await svc.fixedAge(3, 5_000)).toBe('3#3');
    await backgroundSettled();
    expect(svc.calls).toBe(4);
  });

  it('background: false: the caller that wins the refresh waits for it and gets the new value; others do not wait', async () => {
    expect(await svc.waited(1)).toBe('1#1');
    age(800);
    const gate = deferred();
    svc.gate = gate.promise;
    let settled = false;
    const winner = svc.waited(1).finally(() => (settled = true));
    // Polled in steps of real time (Date is faked here), at most 5 s.
    for (let i = 0; i < 5_000 && svc.calls < 2; i++) await sleep(1);
    expect(svc.calls).toBe(2);
    // While the refresh is held open, another caller gets the current value at once.
    expect(await svc.waited(1)).toBe('1#1');
    expect(settled).toBe(false);
    gate.resolve();
    svc.gate = undefined;
    expect(await winner).toBe('1#2');
    expect(await svc.waited(1)).toBe('1#2');
    expect(svc.calls).toBe(2);
  });

  it('background: false: when the refresh fails, the winner gets the current value, reported as stale', async () => {
    expect(await svc.waited(1)).toBe('1#1');
    age(800);
    svc.failWith = new ErUpstreamError('upstream down');
    const { result, hits } = await CacheDetect.run(() => svc.waited(1));
    expect(result).toBe('1#1');
    expect(hits).toEqual([expect.objectContaining({ strategy: 'early', stale: true, exception: 'ErUpstreamError' })]);
    svc.failWith = undefined;
    // The failed refresh released the lock: the next caller refreshes.
    expect(await svc.waited(1)).toBe('1#3');
  });

  it('a stored error (cacheErrors) is served until it expires, without an early refresh', async () => {
    svc.failWith = new ErMissingError('no such item');
    await rejection(svc.missing('x'));
    svc.failWith = undefined;
    age(1_500);
    const served = await rejection(svc.missing('x'));
    expect(served).toBeInstanceOf(ErMissingError);
    expect((served as Error).message).toBe('no such item');
    await backgroundSettled();
    expect(svc.calls).toBe(1);
  });
});
