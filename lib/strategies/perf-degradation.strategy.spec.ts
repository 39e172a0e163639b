import type { CacheService } from '../cache.service.js';
import { createCache } from '../create-cache.js';
import { PerfDegradationError } from '../errors.js';
import { fakeCall, rejection, sleep } from '../../test/support/fake-call.js';
import { perfDegradationStrategy, slowerThanTwiceTheMean } from './perf-degradation.strategy.js';

describe('perfDegradationStrategy (mem://)', () => {
  let cache: CacheService;
  beforeEach(async () => {
    cache = await createCache('mem://');
  });
  afterEach(() => cache.close());
  const taking = (ms: number) => async () => {
    await sleep(ms);
    return ms;
  };

  it('a call slower than twice the mean of the trace degrades the method for ttl', async () => {
    const call = fakeCall('p1');
    const options = { ttl: 150, traceSize: 3, condition: slowerThanTwiceTheMean };
    for (let i = 0; i < 3; i++) await perfDegradationStrategy(call, options, cache, taking(5));
    // The slow call itself answers; the next ones fail fast without running.
    expect(await perfDegradationStrategy(call, options, cache, taking(60))).toBe(60);
    let runs = 0;
    const error = (await rejection(
      perfDegradationStrategy(call, options, cache, async () => ++runs),
    )) as PerfDegradationError;
    expect(error).toBeInstanceOf(PerfDegradationError);
    expect(error.retryAfter).toBeGreaterThan(0);
    expect(error.retryAfter).toBeLessThanOrEqual(150);
    expect(runs).toBe(0);
    expect(call.rejections).toBe(1); // the fast fail is counted as a rejection, the slow call was not
    await sleep(170);
    expect(await perfDegradationStrategy(call, options, cache, taking(60))).toBe(60); // relearning, not judged
  });

  it('judges nothing until the trace is full, and honours a custom condition', async () => {
    const call = fakeCall('p2');
    const options = { ttl: 1000, traceSize: 2, condition: (elapsed: number) => elapsed > 30 };
    await perfDegradationStrategy(call, options, cache, taking(50)); // trace not full: not judged
    await perfDegradationStrategy(call, options, cache, taking(1));
    await perfDegradationStrategy(call, options, cache, taking(20)); // 20 <= 30
    expect(await perfDegradationStrategy(call, options, cache, taking(1))).toBe(1);
    await perfDegradationStrategy(call, options, cache, taking(40));
    expect(await rejection(perfDegradationStrategy(call, options, cache, taking(1)))).toBeInstanceOf(
      PerfDegradationError,
    );
  });
});
