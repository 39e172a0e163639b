import { engineOf } from '../engine/engine-of.js';
import { jest } from '@jest/globals';
import type { CacheService } from '../cache.service.js';
import { createCache } from '../create-cache.js';
import { PerfDegradationError } from '../errors.js';
import { fakeCall, rejection, sleep } from '../../test/support/fake-call.js';
import { perfDegradationStrategy, slowerThanTwiceTheMean } from './perf-degradation.strategy.js';

type PerfOptions = Parameters<typeof perfDegradationStrategy>[1];

describe('perfDegradationStrategy (mem://)', () => {
  let cache: CacheService;
  // Time is the subject: Jest's fake timers move performance.now() and Date, so a call takes exactly `ms`.
  beforeEach(async () => {
    jest.useFakeTimers();
    cache = await createCache('mem://');
  });
  afterEach(async () => {
    jest.useRealTimers();
    await cache.close();
  });
  /** The strategy around a method that takes `ms` of (fake) time and answers `ms`. */
  const timed = async (call: ReturnType<typeof fakeCall>, options: PerfOptions, ms: number): Promise<unknown> => {
    const result = perfDegradationStrategy(call, options, engineOf(cache), async () => {
      await sleep(ms);
      return ms;
    });
    result.catch(() => undefined); // awaited below, after the clock moved
    await jest.advanceTimersByTimeAsync(ms);
    return result;
  };

  it('a call slower than twice the mean of the trace degrades the method for ttl', async () => {
    const call = fakeCall('p1');
    const options = { ttl: 150, traceSize: 3, condition: slowerThanTwiceTheMean };
    for (let i = 0; i < 3; i++) await timed(call, options, 5);
    // The slow call itself answers; the next ones fail fast without running.
    expect(await timed(call, options, 60)).toBe(60);
    let runs = 0;
    const error = (await rejection(
      perfDegradationStrategy(call, options, engineOf(cache), async () => ++runs),
    )) as PerfDegradationError;
    expect(error).toBeInstanceOf(PerfDegradationError);
    expect(error.retryAfter).toBeGreaterThan(0);
    expect(error.retryAfter).toBeLessThanOrEqual(150);
    expect(runs).toBe(0);
    expect(call.rejections).toBe(1); // the fast fail is counted as a rejection, the slow call was not
    await jest.advanceTimersByTimeAsync(170);
    expect(await timed(call, options, 60)).toBe(60); // relearning, not judged
  });

  it('judges nothing until the trace is full, and honours a custom condition', async () => {
    const call = fakeCall('p2');
    const options = { ttl: 1000, traceSize: 2, condition: (elapsed: number) => elapsed > 30 };
    await timed(call, options, 50); // trace not full: not judged
    await timed(call, options, 1);
    await timed(call, options, 20); // 20 <= 30
    expect(await timed(call, options, 1)).toBe(1);
    await timed(call, options, 40);
    expect(await rejection(timed(call, options, 1))).toBeInstanceOf(PerfDegradationError);
  });
});
