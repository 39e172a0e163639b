import { engineOf } from '../engine/engine-of.js';
import { jest } from '@jest/globals';
import type { CacheService } from '../cache.service.js';
import { createCache } from '../create-cache.js';
import { MISS } from '../miss.js';
import { computeOnce, type StampedeOptions } from './stampede.js';
import type { StrategyCache, StrategyCall } from './strategy.js';

const call = (key: string): StrategyCall => ({
  target: 'Svc.method',
  args: [],
  key,
  report: async () => undefined,
  background: () => undefined,
});

const locked = (extra: Partial<StampedeOptions> = {}): StampedeOptions => ({
  lock: true,
  lockTtl: 500,
  step: 5,
  ...extra,
});

describe('computeOnce', () => {
  let cache: CacheService;
  beforeEach(async () => {
    cache = await createCache('mem://');
  });
  afterEach(() => cache.close());

  it('without lock, computes directly and shares the run among concurrent callers', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const compute = jest.fn(async () => {
      await gate;
      return 'v';
    });
    const fresh = jest.fn(async () => MISS);
    // All five join while the run is held open.
    const running = Array.from({ length: 5 }, () =>
      computeOnce(call('k'), engineOf(cache), { lock: false, lockTtl: 0, step: 0 }, fresh, compute),
    );
    open();
    const results = await Promise.all(running);
    expect(results).toEqual(Array(5).fill('v'));
    expect(compute).toHaveBeenCalledTimes(1);
    expect(fresh).not.toHaveBeenCalled();
  });

  it('with lock: the holder re-checks fresh() first and skips compute when another process stored meanwhile', async () => {
    const compute = jest.fn(async () => 'mine');
    expect(await computeOnce(call('k'), engineOf(cache), locked(), async () => 'theirs', compute)).toBe('theirs');
    expect(compute).not.toHaveBeenCalled();
    expect(await cache.exists('k:stampede')).toBe(false);
  });

  it('with lock: the holder computes and releases the lock', async () => {
    const compute = jest.fn(async () => 'mine');
    expect(await computeOnce(call('k'), engineOf(cache), locked(), async () => MISS, compute)).toBe('mine');
    expect(compute).toHaveBeenCalledTimes(1);
    expect(await cache.exists('k:stampede')).toBe(false);
  });

  it('with lock: the holder releases the lock when compute throws', async () => {
    await expect(
      computeOnce(
        call('k'),
        engineOf(cache),
        locked(),
        async () => MISS,
        async () => {
          throw new Error('boom');
        },
      ),
    ).rejects.toThrow('boom');
    expect(await cache.exists('k:stampede')).toBe(false);
  });

  it('a waiter polls fresh() while another process holds the lock and answers its value', async () => {
    await cache.setLock('k:stampede', 'other-process', 1_000);
    // The other process stores its value after the waiter's second look.
    let looks = 0;
    const fresh = async () => (++looks > 2 ? 'theirs' : MISS);
    const compute = jest.fn(async () => 'mine');
    expect(await computeOnce(call('k'), engineOf(cache), locked({ lockTtl: 1_000 }), fresh, compute)).toBe('theirs');
    expect(looks).toBe(3);
    expect(compute).not.toHaveBeenCalled();
  });

  it('a waiter that outlives lockTtl computes itself', async () => {
    await cache.setLock('k:stampede', 'dead-process', 10_000);
    const compute = jest.fn(async () => 'mine');
    const started = Date.now();
    expect(await computeOnce(call('k'), engineOf(cache), locked({ lockTtl: 60 }), async () => MISS, compute)).toBe(
      'mine',
    );
    expect(compute).toHaveBeenCalledTimes(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('when the backend cannot lock (safe mode), computes without the lock', async () => {
    const failing: StrategyCache = Object.assign(Object.create(engineOf(cache)) as StrategyCache, {
      tryLock: async () => 'failed' as const,
      singleFlight: <T>(key: string, fn: () => Promise<T>) => engineOf(cache).singleFlight(key, fn),
    });
    const compute = jest.fn(async () => 'mine');
    expect(await computeOnce(call('k'), failing, locked(), async () => 'unused', compute)).toBe('mine');
    expect(compute).toHaveBeenCalledTimes(1);
  });
});
