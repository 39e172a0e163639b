/** Unit specs of failover, hit, early, soft and locked strategies, called directly on a mem:// CacheService. */
import { engineOf } from '../engine/engine-of.js';
import { jest } from '@jest/globals';
import type { CacheService } from '../cache.service.js';
import { createCache } from '../create-cache.js';
import { earlyStrategy, type EarlyStrategyOptions } from './early.strategy.js';
import { failoverStrategy } from './failover.strategy.js';
import { hitStrategy, type HitStrategyOptions } from './hit.strategy.js';
import { lockedStrategy } from './locked.strategy.js';
import { softStrategy, type SoftStrategyOptions } from './soft.strategy.js';
import { fakeCall } from '../../test/support/fake-call.js';

const stampede = { lock: false, lockTtl: 1_000, step: 5 };
const fail = (error: unknown) => async () => {
  throw error;
};

let cache: CacheService;
beforeEach(async () => {
  cache = await createCache('mem://');
});
afterEach(() => cache.close());

describe('failoverStrategy', () => {
  it('stores every success and answers it when next fails', async () => {
    await failoverStrategy(fakeCall('k'), { ttl: 10_000 }, engineOf(cache), async () => 'v1');
    const call = fakeCall('k');
    const { reports } = call;
    expect(await failoverStrategy(call, { ttl: 10_000 }, engineOf(cache), fail(new TypeError('x')))).toBe('v1');
    expect(reports).toEqual([{ strategy: 'failover', stale: true, exception: 'TypeError' }]);
  });

  it('reports the class name of an error subclass that does not set name', async () => {
    class UpstreamError extends Error {}
    await cache.set('k', 'v1');
    const call = fakeCall('k');
    const { reports } = call;
    expect(await failoverStrategy(call, { ttl: 10_000 }, engineOf(cache), fail(new UpstreamError('x')))).toBe('v1');
    expect(reports).toEqual([expect.objectContaining({ exception: 'UpstreamError' })]);
  });

  it('falls back for a non-Error throw too, reporting its type', async () => {
    await cache.set('k', 'v1');
    const call = fakeCall('k');
    const { reports } = call;
    expect(await failoverStrategy(call, { ttl: 10_000 }, engineOf(cache), fail('plain string'))).toBe('v1');
    expect(reports).toEqual([expect.objectContaining({ exception: 'string' })]);
  });

  it('rethrows errors that exceptions do not match, without reporting', async () => {
    await cache.set('k', 'v1');
    const call = fakeCall('k');
    const { reports } = call;
    const error = new RangeError('x');
    await expect(
      failoverStrategy(call, { ttl: 10_000, exceptions: [TypeError] }, engineOf(cache), fail(error)),
    ).rejects.toBe(error);
    expect(reports).toEqual([]);
  });

  it('a stored undefined success is a valid fallback', async () => {
    await failoverStrategy(fakeCall('k'), { ttl: 10_000 }, engineOf(cache), async () => undefined);
    expect(
      await failoverStrategy(fakeCall('k'), { ttl: 10_000 }, engineOf(cache), fail(new Error('x'))),
    ).toBeUndefined();
  });

  it('condition false keeps the previous success', async () => {
    const options = { ttl: 10_000, condition: (result: unknown) => result !== 'bad' };
    await failoverStrategy(fakeCall('k'), options, engineOf(cache), async () => 'good');
    await failoverStrategy(fakeCall('k'), options, engineOf(cache), async () => 'bad');
    expect(await cache.get('k')).toBe('good');
  });
});

describe('hitStrategy', () => {
  const options = (extra: Partial<HitStrategyOptions> = {}): HitStrategyOptions => ({
    ttl: 10_000,
    cacheHits: 2,
    ...stampede,
    ...extra,
  });

  it('stores the value with a zeroed counter, then counts hits', async () => {
    const next = jest.fn(async () => 'v');
    await hitStrategy(fakeCall('k'), options(), engineOf(cache), next);
    expect(await cache.get('k:hits')).toBe(0);
    const call = fakeCall('k');
    const { reports } = call;
    expect(await hitStrategy(call, options(), engineOf(cache), next)).toBe('v');
    expect(await cache.get('k:hits')).toBe(1);
    expect(reports).toEqual([{ strategy: 'hit' }]);
    await hitStrategy(fakeCall('k'), options(), engineOf(cache), next);
    expect(next).toHaveBeenCalledTimes(1);
    await hitStrategy(fakeCall('k'), options(), engineOf(cache), next); // third hit > cacheHits 2
    expect(next).toHaveBeenCalledTimes(2);
    expect(await cache.get('k:hits')).toBe(0);
  });

  it('schedules exactly one background refresh, at hit updateAfter', async () => {
    const next = jest.fn(async () => 'v');
    await hitStrategy(fakeCall('k'), options({ cacheHits: 5, updateAfter: 2 }), engineOf(cache), next);
    const scheduled: Array<() => Promise<unknown>> = [];
    for (let i = 0; i < 4; i++) {
      const call = fakeCall('k');
      const { pending: background } = call;
      await hitStrategy(call, options({ cacheHits: 5, updateAfter: 2 }), engineOf(cache), next);
      scheduled.push(...background);
    }
    expect(scheduled).toHaveLength(1);
    expect(next).toHaveBeenCalledTimes(1);
    await scheduled[0]();
    expect(next).toHaveBeenCalledTimes(2);
    expect(await cache.get('k:hits')).toBe(0);
  });

  it('a corrupt counter recomputes instead of failing the call', async () => {
    await cache.set('k', 'old');
    await cache.set('k:hits', 'not a number');
    const next = jest.fn(async () => 'new');
    expect(await hitStrategy(fakeCall('k'), options(), engineOf(cache), next)).toBe('new');
    expect(await cache.get('k:hits')).toBe(0);
  });

  it('a value stored without a counter starts counting from 1', async () => {
    await cache.set('k', 'old');
    const next = jest.fn(async () => 'new');
    expect(await hitStrategy(fakeCall('k'), options(), engineOf(cache), next)).toBe('old');
    expect(next).not.toHaveBeenCalled();
  });
});

describe('earlyStrategy', () => {
  const options = (extra: Partial<EarlyStrategyOptions> = {}): EarlyStrategyOptions => ({
    ttl: 10_000,
    refreshAfter: 1_000,
    ...stampede,
    ...extra,
  });

  it('stores an envelope whose refresh time is refreshAfter (earlyTtl) ahead', async () => {
    const before = Date.now();
    await earlyStrategy(fakeCall('k'), options(), engineOf(cache), async () => 'v');
    const stored = (await cache.get('k')) as { v: unknown; at: number };
    expect(stored.v).toBe('v');
    expect(stored.at).toBeGreaterThanOrEqual(before + 1_000);
    expect(stored.at).toBeLessThanOrEqual(Date.now() + 1_000);
  });

  it('a fresh envelope is answered without a refresh', async () => {
    await cache.set('k', { v: 'old', at: Date.now() + 60_000 });
    const call = fakeCall('k');
    const { pending: background, reports } = call;
    expect(await earlyStrategy(call, options(), engineOf(cache), async () => 'new')).toBe('old');
    expect(background).toHaveLength(0);
    expect(reports).toEqual([{ strategy: 'early' }]);
  });

  it('an early envelope is answered and refreshed in the background', async () => {
    await cache.set('k', { v: 'old', at: Date.now() - 1 });
    const call = fakeCall('k');
    const { pending: background } = call;
    expect(await earlyStrategy(call, options(), engineOf(cache), async () => 'new')).toBe('old');
    expect(background).toHaveLength(1);
    await background[0]();
    expect(await cache.get('k')).toEqual({ v: 'new', at: expect.any(Number) });
  });

  it('no refresh when another process holds the early lock', async () => {
    await cache.set('k', { v: 'old', at: Date.now() - 1 });
    await cache.setLock('k:early', 'other', 5_000);
    const next = jest.fn(async () => 'new');
    const call = fakeCall('k');
    const { pending: background } = call;
    await earlyStrategy(call, options(), engineOf(cache), next);
    await background[0]();
    expect(next).not.toHaveBeenCalled();
  });

  it('a failed refresh releases the early lock so a later call can retry', async () => {
    await cache.set('k', { v: 'old', at: Date.now() - 1 });
    const call = fakeCall('k');
    const { pending: background } = call;
    await earlyStrategy(call, options(), engineOf(cache), fail(new Error('down')));
    await expect(background[0]()).rejects.toThrow('down');
    expect(await cache.exists('k:early')).toBe(false);
    expect(await cache.get('k')).toEqual({ v: 'old', at: expect.any(Number) });
  });

  it('a value that is not an envelope is a miss', async () => {
    await cache.set('k', 'plain');
    const next = jest.fn(async () => 'computed');
    expect(await earlyStrategy(fakeCall('k'), options(), engineOf(cache), next)).toBe('computed');
    expect(next).toHaveBeenCalledTimes(1);
  });
});

describe('softStrategy', () => {
  const options = (extra: Partial<SoftStrategyOptions> = {}): SoftStrategyOptions => ({
    ttl: 10_000,
    freshFor: 1_000,
    ...stampede,
    ...extra,
  });

  it('a fresh envelope is a hit', async () => {
    await cache.set('k', { v: 'old', at: Date.now() + 60_000 });
    const next = jest.fn(async () => 'new');
    const call = fakeCall('k');
    const { reports } = call;
    expect(await softStrategy(call, options(), engineOf(cache), next)).toBe('old');
    expect(next).not.toHaveBeenCalled();
    expect(reports).toEqual([{ strategy: 'soft' }]);
  });

  it('a soft-expired envelope is recomputed and stored', async () => {
    await cache.set('k', { v: 'old', at: Date.now() - 1 });
    expect(await softStrategy(fakeCall('k'), options(), engineOf(cache), async () => 'new')).toBe('new');
    expect(await cache.get('k')).toEqual({ v: 'new', at: expect.any(Number) });
  });

  it('a failing recompute answers the stale value and reports it as stale', async () => {
    await cache.set('k', { v: 'old', at: Date.now() - 1 });
    const call = fakeCall('k');
    const { reports } = call;
    expect(await softStrategy(call, options(), engineOf(cache), fail(new TypeError('down')))).toBe('old');
    expect(reports).toEqual([{ strategy: 'soft', stale: true, exception: 'TypeError' }]);
    expect(await cache.get('k')).toEqual({ v: 'old', at: expect.any(Number) });
  });

  it('errors outside exceptions go through', async () => {
    await cache.set('k', { v: 'old', at: Date.now() - 1 });
    const error = new RangeError('bug');
    await expect(
      softStrategy(fakeCall('k'), options({ exceptions: [TypeError] }), engineOf(cache), fail(error)),
    ).rejects.toBe(error);
  });

  it('reports the class name of an error subclass that does not set name', async () => {
    class UpstreamError extends Error {}
    await cache.set('k', { v: 'old', at: Date.now() - 1 });
    const call = fakeCall('k');
    const { reports } = call;
    await softStrategy(call, options(), engineOf(cache), fail(new UpstreamError('down')));
    expect(reports).toEqual([expect.objectContaining({ exception: 'UpstreamError' })]);
  });
});

describe('lockedStrategy', () => {
  it('locks key:locked with the options and releases it', async () => {
    const lock = jest.spyOn(engineOf(cache), 'lock');
    let heldDuring = false;
    const result = await lockedStrategy(
      fakeCall('k'),
      { ttl: 1_000, wait: false, step: 7 },
      engineOf(cache),
      async () => {
        heldDuring = await cache.isLocked('k:locked');
        return 'v';
      },
    );
    expect(result).toBe('v');
    expect(heldDuring).toBe(true);
    expect(lock).toHaveBeenCalledWith('k:locked', 1_000, expect.any(Function), {
      wait: false,
      step: 7,
      holdUntil: expect.any(Function),
    });
    expect(await cache.isLocked('k:locked')).toBe(false);
  });
});
