import { engineOf } from '../engine/engine-of.js';
import { jest } from '@jest/globals';
import type { CacheService } from '../cache.service.js';
import { createCache } from '../create-cache.js';
import { RateLimitError } from '../errors.js';
import { fakeCall, rejection } from '../../test/support/fake-call.js';
import { slidingRateLimitStrategy } from './sliding-rate-limit.strategy.js';

describe('slidingRateLimitStrategy (mem://)', () => {
  let cache: CacheService;
  // Time is the subject: Jest's fake timers move mem://'s clock (lib/clock.ts), so no margin depends on real time.
  beforeEach(async () => {
    jest.useFakeTimers();
    cache = await createCache('mem://');
  });
  afterEach(async () => {
    jest.useRealTimers();
    await cache.close();
  });
  const ok = async () => 'ran';

  it('at most `limit` in any period: the edge burst that a fixed window lets through is refused', async () => {
    const call = fakeCall('s1');
    const options = { limit: 3, period: 200 };
    expect(await slidingRateLimitStrategy(call, options, engineOf(cache), ok)).toBe('ran');
    await jest.advanceTimersByTimeAsync(150);
    for (let i = 0; i < 2; i++) expect(await slidingRateLimitStrategy(call, options, engineOf(cache), ok)).toBe('ran');
    await jest.advanceTimersByTimeAsync(70); // the first call left the window; the two recent ones did not
    expect(await slidingRateLimitStrategy(call, options, engineOf(cache), ok)).toBe('ran');
    const error = (await rejection(slidingRateLimitStrategy(call, options, engineOf(cache), ok))) as RateLimitError;
    expect(error).toBeInstanceOf(RateLimitError);
    // Free again once the oldest allowed call in the window is `period` old (~130 ms from now).
    expect(error.retryAfter).toBeGreaterThan(50);
    expect(error.retryAfter).toBeLessThanOrEqual(200);
    await jest.advanceTimersByTimeAsync(error.retryAfter + 10);
    expect(await slidingRateLimitStrategy(call, options, engineOf(cache), ok)).toBe('ran');
  });

  it('reports remaining and applies action', async () => {
    const call = fakeCall('s2', [7]);
    const options = { limit: 2, period: 1000, action: (n: unknown) => `busy ${String(n)}` };
    await slidingRateLimitStrategy(call, options, engineOf(cache), ok);
    await slidingRateLimitStrategy(call, options, engineOf(cache), ok);
    expect(await slidingRateLimitStrategy(call, options, engineOf(cache), ok)).toBe('busy 7');
    expect(call.limits.map((l) => l.remaining)).toEqual([1, 0, 0]);
  });
});
