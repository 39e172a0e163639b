import { engineOf } from '../engine/engine-of.js';
import { jest } from '@jest/globals';
import type { CacheService } from '../cache.service.js';
import { createCache } from '../create-cache.js';
import { cacheStrategy, type CacheStrategyOptions } from './cache.strategy.js';
import { fakeCall } from '../../test/support/fake-call.js';

const options = (extra: Partial<CacheStrategyOptions> = {}): CacheStrategyOptions => ({
  ttl: 10_000,
  lock: false,
  lockTtl: 1_000,
  step: 5,
  ...extra,
});

describe('cacheStrategy', () => {
  let cache: CacheService;
  beforeEach(async () => {
    cache = await createCache('mem://');
  });
  afterEach(() => cache.close());

  it('on a miss runs next once, stores with the ttl, reports nothing', async () => {
    const call = fakeCall('k');
    const { reports } = call;
    const next = jest.fn(async () => 'v');
    expect(await cacheStrategy(call, options(), engineOf(cache), next)).toBe('v');
    expect(next).toHaveBeenCalledTimes(1);
    expect(await cache.get('k')).toBe('v');
    const left = await cache.getExpire('k');
    expect(left).toBeGreaterThan(9_000);
    expect(reports).toEqual([]);
  });

  it('on a hit answers the stored value without next and reports strategy cache', async () => {
    await cache.set('k', { a: 1 });
    const call = fakeCall('k');
    const { reports } = call;
    const next = jest.fn(async () => 'v');
    expect(await cacheStrategy(call, options(), engineOf(cache), next)).toEqual({ a: 1 });
    expect(next).not.toHaveBeenCalled();
    expect(reports).toEqual([{ strategy: 'cache' }]);
  });

  it('a stored undefined is a hit, not a miss', async () => {
    await cache.set('k', undefined);
    const next = jest.fn(async () => 'v');
    expect(await cacheStrategy(fakeCall('k'), options(), engineOf(cache), next)).toBeUndefined();
    expect(next).not.toHaveBeenCalled();
  });

  it('concurrent misses share one run of next', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const next = jest.fn(async () => {
      await gate;
      return 'v';
    });
    const all = Promise.all(
      Array.from({ length: 10 }, () => cacheStrategy(fakeCall('k'), options(), engineOf(cache), next)),
    );
    release();
    expect(await all).toEqual(Array(10).fill('v'));
    expect(next).toHaveBeenCalledTimes(1);
  });

  it('passes the result and the call arguments to condition', async () => {
    const condition = jest.fn((_result: unknown, args: readonly unknown[]) => args[0] === 'yes');
    await cacheStrategy(fakeCall('a', ['yes']), options({ condition }), engineOf(cache), async () => 1);
    await cacheStrategy(fakeCall('b', ['no']), options({ condition }), engineOf(cache), async () => 2);
    expect(condition.mock.calls).toEqual([
      [1, ['yes']],
      [2, ['no']],
    ]);
    expect(await cache.exists('a')).toBe(true);
    expect(await cache.exists('b')).toBe(false);
  });

  it("takes the ttl from a function of the result and the call's arguments", async () => {
    const ttl = jest.fn((result: unknown, _args: readonly unknown[]) => (result as { ttl: number }).ttl);
    await cacheStrategy(fakeCall('k', ['a', 2]), options({ ttl }), engineOf(cache), async () => ({ ttl: 500 }));
    expect(ttl).toHaveBeenCalledWith({ ttl: 500 }, ['a', 2]);
    const left = await cache.getExpire('k');
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(500);
  });

  it('does not store a stream-like result (it could be replayed only once)', async () => {
    const stream = { pipe: () => undefined };
    expect(await cacheStrategy(fakeCall('k'), options(), engineOf(cache), async () => stream)).toBe(stream);
    expect(await cache.exists('k')).toBe(false);
  });

  it('does not store when next rejects, and the next caller runs again', async () => {
    const next = jest.fn(async () => {
      throw new Error('boom');
    });
    await expect(cacheStrategy(fakeCall('k'), options(), engineOf(cache), next)).rejects.toThrow('boom');
    await expect(cacheStrategy(fakeCall('k'), options(), engineOf(cache), next)).rejects.toThrow('boom');
    expect(next).toHaveBeenCalledTimes(2);
    expect(await cache.exists('k')).toBe(false);
  });

  it('timeCondition skips results computed faster than it', async () => {
    // Time is the subject: fake timers move performance.now(), so a computation takes exactly `ms`.
    jest.useFakeTimers();
    try {
      const taking = (ms: number, value: number) => async () => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return value;
      };
      const run = async (key: string, ms: number, value: number) => {
        const result = cacheStrategy(fakeCall(key), options({ timeCondition: 30 }), engineOf(cache), taking(ms, value));
        await jest.advanceTimersByTimeAsync(ms);
        return result;
      };
      expect(await run('fast', 29, 1)).toBe(1);
      expect(await run('slow', 30, 2)).toBe(2);
      expect(await cache.exists('fast')).toBe(false);
      expect(await cache.get('slow')).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });
});
