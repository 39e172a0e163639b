import { parsePositiveDuration, type Duration } from '../duration.js';
import { CacheTimeoutError, CashewsConfigError } from '../errors.js';
import { MISS } from '../miss.js';
import { parseTimerDuration } from '../timer-duration.js';
import { sharedRun } from './stampede.js';
import type { StrategyCall } from './strategy.js';

/** `@Cache` timeouts as the user gives them. */
export interface TimeoutDecoratorOptions {
  /**
   * Keep each value this long past its `ttl`, as a stale stand-in that `timeout` may answer while a recompute is
   * slow. A stale value is never served otherwise: after `ttl` a call recomputes as usual.
   */
  staleTtl?: Duration;
  /**
   * With a stale value kept (`staleTtl`): a recompute that takes longer than this answers the stale value instead,
   * and goes on in the background to store its result. At most 2^31 - 1 ms (about 24.8 days): a timer waits for it.
   */
  timeout?: Duration;
  /**
   * A call that waits longer than this for its result fails with `CacheTimeoutError` (stale value or not); the run
   * goes on in the background to store its result. At most 2^31 - 1 ms (about 24.8 days): a timer waits for it.
   */
  hardTimeout?: Duration;
}

/** Validated timeouts, in ms. */
export interface Timeouts {
  staleTtl?: number;
  timeout?: number;
  hardTimeout?: number;
}

export const TIMEOUT_OPTION_NAMES = ['staleTtl', 'timeout', 'hardTimeout'] as const;

/**
 * Checks the timeout options of `where`; `undefined` when none is given.
 * @throws CashewsConfigError naming the option and the fix.
 */
export function timeoutsOf(where: string, options: TimeoutDecoratorOptions): Timeouts | undefined {
  const { staleTtl, timeout, hardTimeout } = options;
  if (staleTtl === undefined && timeout === undefined && hardTimeout === undefined) return undefined;
  const parsed: Timeouts = {
    staleTtl: staleTtl === undefined ? undefined : parsePositiveDuration(staleTtl, `${where} staleTtl`),
    // Timers: Node fires a longer one after 1 ms, which would time every call out at once.
    timeout: timeout === undefined ? undefined : parseTimerDuration(timeout, `${where} timeout`),
    hardTimeout: hardTimeout === undefined ? undefined : parseTimerDuration(hardTimeout, `${where} hardTimeout`),
  };
  if (parsed.timeout !== undefined && parsed.staleTtl === undefined) {
    throw new CashewsConfigError(
      `${where}: timeout answers a stale value, and none is kept without staleTtl. Give staleTtl too ` +
        `({ ttl: '1m', staleTtl: '10m', timeout: '200ms' }), or use hardTimeout to fail slow calls.`,
    );
  }
  if (parsed.staleTtl !== undefined && parsed.timeout === undefined) {
    throw new CashewsConfigError(
      `${where}: staleTtl keeps values for timeout to answer while a recompute is slow, and no timeout is given. ` +
        `Give timeout too ({ ttl: '1m', staleTtl: '10m', timeout: '200ms' }), or leave staleTtl out.`,
    );
  }
  if (parsed.timeout !== undefined && parsed.hardTimeout !== undefined && parsed.hardTimeout <= parsed.timeout) {
    throw new CashewsConfigError(
      `${where}: hardTimeout (${parsed.hardTimeout} ms) must be longer than timeout (${parsed.timeout} ms).`,
    );
  }
  return parsed;
}

/**
 * Runs already handed to the background by a timed-out caller: each is adopted (and its failure logged) once, however
 * many callers sharing it timed out (each holds its own promise of it: {@link sharedRun} finds the run).
 */
const adopted = new WeakSet<Promise<unknown>>();

/**
 * Waits for `work` (a recompute, shared by concurrent callers) within the timeouts: after `timeout`, with a `stale`
 * value, answers it (reported as a stale hit); after `hardTimeout` fails with {@link CacheTimeoutError}. Either way
 * `work` is handed to the background: it goes on, stores its result, and a failure of it is logged, not lost.
 */
export function withinTimeouts(
  call: StrategyCall,
  timeouts: Timeouts,
  work: Promise<unknown>,
  stale: unknown,
  staleHit: { remaining?: number; lifetime?: number } = {},
): Promise<unknown> {
  const soft = stale === MISS ? undefined : timeouts.timeout;
  const hard = timeouts.hardTimeout;
  if (soft === undefined && hard === undefined) return work;
  return new Promise((resolve, reject) => {
    const timers: NodeJS.Timeout[] = [];
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      return true;
    };
    const giveUp = (): boolean => {
      if (!finish()) return false;
      const run = sharedRun(work);
      if (!adopted.has(run)) {
        adopted.add(run);
        call.background(() => work);
      }
      return true;
    };
    work.then(
      (value) => finish() && resolve(value),
      (error: unknown) => finish() && reject(error),
    );
    if (soft !== undefined) {
      timers.push(
        setTimeout(() => {
          if (!giveUp()) return;
          const report = { strategy: 'cache', stale: true, exception: CacheTimeoutError.name, ...staleHit };
          Promise.resolve(call.report(report)).then(
            () => resolve(stale),
            () => resolve(stale),
          );
        }, soft),
      );
    }
    if (hard !== undefined) {
      timers.push(
        setTimeout(() => {
          if (giveUp()) reject(new CacheTimeoutError(call.target, hard));
        }, hard),
      );
    }
  });
}
