import { decide, escalate, initialState, RULES, type TunerState } from './decide.js';
import type { Observed } from './observations.js';
import type { AdaptiveBounds } from './types.js';

const bounds: AdaptiveBounds = { maxTtl: 60_000, maxStaleness: 60_000, minTtl: 1000, slowRun: 100, window: 15_000 };

/** Figures of a window: `hit` would-be hit ratio at any TTL unless a function is given. */
function seen(figures: Partial<Omit<Observed, 'hitRatioAt'>> & { hit?: number | ((ttl: number) => number) }): Observed {
  const { hit = 0.95, ...rest } = figures;
  return {
    calls: 1000,
    meanRunMs: 5,
    failureRate: 0,
    changeIntervalMs: 30_000,
    hitRatioAt: typeof hit === 'function' ? hit : () => hit,
    ...rest,
  };
}

/** Runs `windows` windows of the same figures from `state`. */
function run(state: TunerState, figures: Observed, windows: number, b = bounds): TunerState {
  for (let i = 0; i < windows; i++) state = decide(state, figures, b, (i + 1) * b.window);
  return state;
}

describe('decide (adaptive rules)', () => {
  it('decides nothing before minCalls smoothed calls', () => {
    const start = initialState(0);
    expect(run(start, seen({ calls: RULES.minCalls - 1 }), 5)).toBe(start);
  });

  it('caches repeated arguments with the TTL of the change interval, after `patience` windows', () => {
    const once = run(initialState(0), seen({}), 1);
    expect(once.decision.store).toBe('none'); // proposed once: not yet
    const state = run(once, seen({}), 1);
    expect(state.decision).toMatchObject({ store: 'cache', ttl: 30_000, guard: 'none' });
    expect(state.decision.reason).toContain('95% of calls repeat within 30s');
  });

  it('caps the TTL by maxTtl and maxStaleness; results that never change get the cap', () => {
    expect(run(initialState(0), seen({ changeIntervalMs: Infinity }), 3).decision.ttl).toBe(60_000);
    const capped = { ...bounds, maxStaleness: 20_000 };
    expect(run(initialState(0), seen({ changeIntervalMs: Infinity }), 2, capped).decision.ttl).toBe(20_000);
  });

  it('starts with a TTL no longer than the time watched, and at most doubles it per window', () => {
    const state = run(initialState(0), seen({ changeIntervalMs: 10 * 60_000 }), 2, { ...bounds, maxTtl: 600_000 });
    expect(state.decision.ttl).toBe(30_000); // two windows of 15 s
    const ttls = [1, 2, 3, 4].map(
      (n) =>
        run(state, seen({ changeIntervalMs: 10 * 60_000 }), n, { ...bounds, maxTtl: 600_000, maxStaleness: 600_000 })
          .decision.ttl,
    );
    expect(ttls).toEqual([60_000, 120_000, 240_000, 480_000]);
  });

  it('does not cache when arguments rarely repeat within the TTL', () => {
    const state = run(initialState(0), seen({ hit: 0.02 }), 5);
    expect(state.decision.store).toBe('none');
    expect(state.storeProposal).toBeUndefined();
  });

  it('does not cache results that change faster than minTtl', () => {
    const state = run(initialState(0), seen({ changeIntervalMs: 300 }), 5);
    expect(state.decision.store).toBe('none');
  });

  it('stops caching when the repeat ratio falls below storeLeave, not at storeEnter (hysteresis)', () => {
    const caching = run(initialState(0), seen({}), 2);
    const between = (RULES.storeEnter + RULES.storeLeave) / 2;
    expect(run(caching, seen({ hit: between }), 10).decision.store).toBe('cache');
    expect(run(initialState(0), seen({ hit: between }), 10).decision.store).toBe('none');
    const left = run(caching, seen({ hit: RULES.storeLeave / 2 }), 2);
    expect(left.decision.store).toBe('none');
  });

  it('does not flap on a repeat ratio alternating around the entry threshold', () => {
    let state = initialState(0);
    const changes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const hit = i % 2 === 0 ? RULES.storeEnter + 0.05 : RULES.storeEnter - 0.05;
      const next = decide(state, seen({ hit }), bounds, i * 10_000);
      if (next.decision.store !== state.decision.store) changes.push(next.decision.store);
      state = next;
    }
    // Never two proposals in a row: nothing changes.
    expect(changes).toEqual([]);
  });

  it('keeps the TTL while the change interval stays within ttlBand, follows it beyond', () => {
    const caching = run(initialState(0), seen({}), 2);
    expect(run(caching, seen({ changeIntervalMs: 35_000 }), 3).decision.ttl).toBe(30_000);
    expect(run(caching, seen({ changeIntervalMs: 24_000 }), 1).decision.ttl).toBe(30_000);
    expect(run(caching, seen({ changeIntervalMs: 15_000 }), 1).decision.ttl).toBe(15_000);
  });

  it('refreshes hot keys of a slow method early, at earlyShare of the TTL', () => {
    const state = run(initialState(0), seen({ hit: 0.97, meanRunMs: 250 }), 2);
    expect(state.decision).toMatchObject({ store: 'early', ttl: 30_000, refreshAfter: 20_000 });
    // Fast runs, or keys that are not hot: a plain cache.
    expect(run(initialState(0), seen({ hit: 0.97, meanRunMs: 20 }), 2).decision.store).toBe('cache');
    expect(run(initialState(0), seen({ hit: 0.5, meanRunMs: 250 }), 2).decision.store).toBe('cache');
  });

  it('turns the fallback on at the first window with failoverEnter failures', () => {
    const state = run(initialState(0), seen({ failureRate: 0.3 }), 1);
    expect(state.decision.guard).toBe('failover');
  });

  it('adds a circuit only once failures persist for `patience` windows, and relaxes after relaxPatience', () => {
    let state = run(initialState(0), seen({ failureRate: 0.8 }), 1);
    expect(state.decision.guard).toBe('none'); // a circuit waits: one bad window proves little
    state = run(state, seen({ failureRate: 0.8 }), 1);
    expect(state.decision.guard).toBe('circuit');
    // Between circuitLeave and circuitEnter: the circuit stays.
    state = run(state, seen({ failureRate: 0.3 }), 5);
    expect(state.decision.guard).toBe('circuit');
    state = run(state, seen({ failureRate: 0.05 }), RULES.relaxPatience - 1);
    expect(state.decision.guard).toBe('circuit');
    state = run(state, seen({ failureRate: 0.05 }), 1);
    expect(state.decision.guard).toBe('failover'); // 5 %: above failoverLeave
    state = run(state, seen({ failureRate: 0 }), RULES.relaxPatience);
    expect(state.decision.guard).toBe('none');
  });

  it('keeps the guard while too few runs say anything about failures (an open circuit runs nothing)', () => {
    const circuit = run(initialState(0), seen({ failureRate: 0.9 }), 2);
    expect(run(circuit, seen({ failureRate: undefined }), 10).decision.guard).toBe('circuit');
  });

  it('escalates to the fallback within a window once minFailures runs failed at the rate', () => {
    const start = initialState(0);
    expect(escalate(start, 40, 4, 5).decision.guard).toBe('none');
    expect(escalate(start, 100, 5, 5).decision.guard).toBe('none'); // 5 %
    const up = escalate(start, 20, 6, 5);
    expect(up.decision).toMatchObject({ guard: 'failover', since: 5 });
  });

  it('keeps the same decision object when nothing changed (no log line, same since)', () => {
    const caching = run(initialState(0), seen({}), 2);
    expect(run(caching, seen({}), 3).decision).toBe(caching.decision);
  });
});
