import { engineOf } from '../engine/engine-of.js';
import { jest } from '@jest/globals';
import type { CacheService } from '../cache.service.js';
import { createCache } from '../create-cache.js';
import { CircuitOpenError } from '../errors.js';
import { fakeCall, rejection } from '../../test/support/fake-call.js';
import { circuitBreakerStrategy, type CircuitBreakerStrategyOptions } from './circuit-breaker.strategy.js';

class Boom extends Error {}
class Other extends Error {}

/** Time is the subject: Jest's fake timers move mem://'s clock (lib/clock.ts), so no margin depends on real time. */
describe('circuitBreakerStrategy (mem://)', () => {
  let cache: CacheService;
  beforeEach(async () => {
    jest.useFakeTimers();
    cache = await createCache('mem://');
  });
  afterEach(async () => {
    jest.useRealTimers();
    await cache.close();
  });

  const opts = (extra: Partial<CircuitBreakerStrategyOptions> = {}): CircuitBreakerStrategyOptions => ({
    errorsRate: 50,
    period: 10_000,
    ttl: 150,
    minCalls: 4,
    halfOpenTtl: 0,
    ...extra,
  });
  const fail = async () => {
    throw new Boom('down');
  };
  const ok = async () => 'ok';

  it('opens at errorsRate once minCalls were made, then fails fast without running the method', async () => {
    const call = fakeCall('c1');
    const options = opts();
    expect(await circuitBreakerStrategy(call, options, engineOf(cache), ok)).toBe('ok');
    expect(await rejection(circuitBreakerStrategy(call, options, engineOf(cache), fail))).toBeInstanceOf(Boom);
    expect(await circuitBreakerStrategy(call, options, engineOf(cache), ok)).toBe('ok');
    // 1 failure of 3 calls: below minCalls anyway. The 4th call fails: 2 of 4 = 50 % -> open.
    expect(await rejection(circuitBreakerStrategy(call, options, engineOf(cache), fail))).toBeInstanceOf(Boom);
    let runs = 0;
    const error = (await rejection(
      circuitBreakerStrategy(call, options, engineOf(cache), async () => ++runs),
    )) as CircuitOpenError;
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error.retryAfter).toBeGreaterThan(0);
    expect(error.retryAfter).toBeLessThanOrEqual(150);
    expect(runs).toBe(0);
    await jest.advanceTimersByTimeAsync(149);
    expect(await rejection(circuitBreakerStrategy(call, options, engineOf(cache), ok))).toBeInstanceOf(
      CircuitOpenError,
    );
    await jest.advanceTimersByTimeAsync(2);
    expect(await circuitBreakerStrategy(call, options, engineOf(cache), ok)).toBe('ok'); // closed again, no half-open
  });

  it('only `exceptions` count as failures', async () => {
    const call = fakeCall('c2');
    const options = opts({ minCalls: 1, exceptions: [Boom] });
    for (let i = 0; i < 3; i++) {
      await rejection(
        circuitBreakerStrategy(call, options, engineOf(cache), async () => {
          throw new Other('not counted');
        }),
      );
    }
    expect(await circuitBreakerStrategy(call, options, engineOf(cache), ok)).toBe('ok');
    await rejection(circuitBreakerStrategy(call, options, engineOf(cache), fail)); // 1 of 5 = 20 % < 50 %
    expect(await circuitBreakerStrategy(call, options, engineOf(cache), ok)).toBe('ok');
  });

  it('half-open: one trial call; its success closes the circuit', async () => {
    const call = fakeCall('c3');
    const options = opts({ minCalls: 1, ttl: 100, halfOpenTtl: 300 });
    await rejection(circuitBreakerStrategy(call, options, engineOf(cache), fail)); // 1 of 1 -> open
    expect(await rejection(circuitBreakerStrategy(call, options, engineOf(cache), ok))).toBeInstanceOf(
      CircuitOpenError,
    );
    await jest.advanceTimersByTimeAsync(101); // half-open
    let release!: () => void;
    const trial = circuitBreakerStrategy(
      call,
      options,
      engineOf(cache),
      () => new Promise((r) => (release = () => r('trial'))),
    );
    await jest.advanceTimersByTimeAsync(5);
    // While the trial runs, the other calls still fail fast.
    expect(await rejection(circuitBreakerStrategy(call, options, engineOf(cache), ok))).toBeInstanceOf(
      CircuitOpenError,
    );
    release();
    expect(await trial).toBe('trial');
    for (let i = 0; i < 3; i++) expect(await circuitBreakerStrategy(call, options, engineOf(cache), ok)).toBe('ok');
  });

  it('half-open: a failed trial re-opens the circuit for ttl', async () => {
    const call = fakeCall('c4');
    const options = opts({ minCalls: 1, ttl: 100, halfOpenTtl: 300 });
    await rejection(circuitBreakerStrategy(call, options, engineOf(cache), fail));
    await jest.advanceTimersByTimeAsync(101);
    expect(await rejection(circuitBreakerStrategy(call, options, engineOf(cache), fail))).toBeInstanceOf(Boom); // the trial
    const error = (await rejection(circuitBreakerStrategy(call, options, engineOf(cache), ok))) as CircuitOpenError;
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error.retryAfter).toBe(100);
    await jest.advanceTimersByTimeAsync(99);
    expect(await rejection(circuitBreakerStrategy(call, options, engineOf(cache), ok))).toBeInstanceOf(
      CircuitOpenError,
    );
    await jest.advanceTimersByTimeAsync(2);
    expect(await circuitBreakerStrategy(call, options, engineOf(cache), ok)).toBe('ok'); // the next trial closes it
    expect(await circuitBreakerStrategy(call, options, engineOf(cache), ok)).toBe('ok');
  });
});
