import { ChaosBackend } from '../backends/chaos.backend.js';
import { MemoryBackend } from '../backends/memory.backend.js';
import { CacheService } from '../cache.service.js';
import { resolveCacheConfig } from '../config/cache-url.js';
import { createCache } from '../create-cache.js';
import { engineOf } from '../engine/engine-of.js';
import { emptyCounts, gapBucket, type Counts } from './counts.js';
import { FleetLink, nextFleetState } from './fleet.js';
import type { AdaptiveBounds } from './types.js';

const bounds: AdaptiveBounds = { maxTtl: 60_000, maxStaleness: 60_000, minTtl: 1000, slowRun: 100, window: 1000 };

/** A window of `calls` calls, all of keys called again 200 ms later, with results that never changed. */
function busyWindow(calls: number): Counts {
  const counts = emptyCounts();
  counts.calls = counts.sampled = counts.runs = counts.successes = calls;
  counts.gaps[gapBucket(200)] = calls;
  counts.observations = calls;
  counts.exposureMs = calls * 200;
  counts.durationUs = calls * 5000;
  return counts;
}

describe('FleetLink (mem://)', () => {
  let cache: CacheService;
  beforeEach(async () => {
    cache = await createCache('mem://');
  });
  afterEach(() => cache.close());

  it('merges the windows of every process and decides once for all, one window behind', async () => {
    const store = engineOf(cache);
    const a = new FleetLink('Svc:find:adaptive', bounds);
    const b = new FleetLink('Svc:find:adaptive', bounds);
    // Neither process alone has minCalls (20) calls per window; together they have.
    let stateA;
    let stateB;
    for (let index = 1; index <= 4; index++) {
      a.closed(index, busyWindow(12));
      b.closed(index, busyWindow(12));
      stateA = await a.exchange(store, index * 1000);
      stateB = await b.exchange(store, index * 1000 + 1);
    }
    // Window 4 closed: windows 1..3 decided (the first proposes, the second applies), same state for both.
    expect(stateA).toEqual(stateB);
    expect(stateA?.window).toBe(3);
    expect(stateA?.tuner.decision.store).toBe('cache');
    expect(stateA?.smoothed.calls).toBeGreaterThan(24);
    expect(a.due).toBe(false);
  });

  it('a single process alone does not reach minCalls', async () => {
    const store = engineOf(cache);
    const a = new FleetLink('Svc:lone:adaptive', bounds);
    let state;
    for (let index = 1; index <= 4; index++) {
      a.closed(index, busyWindow(6));
      state = await a.exchange(store, index * 1000);
    }
    expect(state?.tuner.decision).toMatchObject({ store: 'none', reason: 'observing' });
  });
});

describe('FleetLink: windows closed while a call was still running', () => {
  it('sends every closed window at the next exchange, not only the last', async () => {
    const cache = await createCache('mem://');
    try {
      const link = new FleetLink('Svc:slow:adaptive', bounds);
      link.closed(1, busyWindow(7));
      link.closed(2, busyWindow(9));
      await link.exchange(engineOf(cache), 3000);
      expect(await cache.get('Svc:slow:adaptive:w:1:calls')).toBe(7);
      expect(await cache.get('Svc:slow:adaptive:w:2:calls')).toBe(9);
      expect(link.due).toBe(false);
    } finally {
      await cache.close();
    }
  });
});

describe("FleetLink: the fleet's decision is protection state", () => {
  it('survives deleteMatch over the method and every cache key (out of reach of cache commands)', async () => {
    const cache = await createCache('mem://');
    try {
      const store = engineOf(cache);
      const a = new FleetLink('Svc:kept:adaptive', bounds);
      for (let index = 1; index <= 4; index++) {
        a.closed(index, busyWindow(24));
        await a.exchange(store, index * 1000);
      }
      await cache.deleteMatch('Svc:*');
      await cache.deleteMatch('*');
      // A window whose counters were wiped: the fleet's state is read back, not rebuilt from nothing.
      a.closed(5, busyWindow(24));
      const state = await a.exchange(store, 5000);
      expect(state?.tuner.decision.store).toBe('cache');
      expect(state?.window).toBeGreaterThanOrEqual(3);
    } finally {
      await cache.close();
    }
  });
});

describe("FleetLink: the decider's lock", () => {
  const lockOf = (namespace: string, target: number) => `${namespace}:decide:${target}`;

  it('is released when storing the decision fails, so another process can decide that window', async () => {
    // Without safe mode a failed write throws; only plain writes (the decision) fail, counters and locks work.
    const config = resolveCacheConfig('mem://', { safe: false });
    const chaos = new ChaosBackend(new MemoryBackend({ size: 100, checkInterval: 0 }), {
      failureRate: 1,
      commands: ['set'],
    });
    const cache = new CacheService(chaos, config);
    try {
      const store = engineOf(cache);
      const link = new FleetLink('Svc:failing:adaptive', bounds);
      link.closed(2, busyWindow(24));
      await expect(link.exchange(store, 2000)).rejects.toThrow(/failed on set/);
      expect(await store.tryLock(lockOf('Svc:failing:adaptive', 1), 'another process', 1000)).toBe('acquired');
    } finally {
      await cache.close();
    }
  });

  it('is released when the window was folded already (a late decider changes nothing)', async () => {
    const cache = await createCache('mem://');
    try {
      const store = engineOf(cache);
      const namespace = 'Svc:late:adaptive';
      const folded = nextFleetState(undefined, 5, busyWindow(24), bounds, 5000);
      await store.writeState(`${namespace}:state`, folded, 60_000);
      const link = new FleetLink(namespace, bounds);
      link.closed(3, busyWindow(24));
      expect((await link.exchange(store, 3000))?.window).toBe(5);
      expect(await store.tryLock(lockOf(namespace, 2), 'another process', 1000)).toBe('acquired');
    } finally {
      await cache.close();
    }
  });
});
