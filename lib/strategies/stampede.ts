import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { MISS } from '../miss.js';
import type { StrategyCache, StrategyCall } from './strategy.js';

/** Stampede protection settings shared by `@Cache`, `@Early` and `@Soft`. */
export interface StampedeOptions {
  /** Also serialize across processes with a backend lock (waiters poll the stored value). */
  lock: boolean;
  /** How long the lock is held at most, and how long waiters poll before computing themselves (ms). */
  lockTtl: number;
  /** Polling interval of waiters (ms). */
  step: number;
}

/**
 * Computes a missing value once. Concurrent callers in this process always share one run; with `lock`,
 * processes race for a backend lock and the losers poll `fresh()` until the winner has stored a value.
 * A waiter that outlives `lockTtl` computes itself rather than wait on a holder that may have died.
 */
export function computeOnce(
  call: StrategyCall,
  cache: StrategyCache,
  options: StampedeOptions,
  fresh: () => Promise<unknown>,
  compute: () => Promise<unknown>,
): Promise<unknown> {
  return cache.singleFlight(call.key, async () => {
    if (!options.lock) return compute();
    const lockKey = `${call.key}:stampede`;
    const token = randomUUID();
    const deadline = Date.now() + options.lockTtl;
    while (Date.now() < deadline) {
      const attempt = await cache.tryLock(lockKey, token, options.lockTtl);
      if (attempt === 'failed') return compute();
      if (attempt === 'acquired') {
        try {
          const stored = await fresh();
          return stored === MISS ? await compute() : stored;
        } finally {
          await cache.unlock(lockKey, token);
        }
      }
      await sleep(options.step);
      const stored = await fresh();
      if (stored !== MISS) return stored;
    }
    return compute();
  });
}
