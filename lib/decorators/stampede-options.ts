import { parsePositiveDuration, type Duration } from '../duration.js';
import { parseTimerDuration } from '../timer-duration.js';
import { describeArgument } from '../config/describe-argument.js';
import { CashewsConfigError } from '../errors.js';
import type { StampedeOptions } from '../strategies/stampede.js';
import type { StorePolicy } from '../strategies/store-policy.js';

/** Stampede options shared by `@Cache`, `@Early` and `@Soft`. */
export interface StampedeDecoratorOptions {
  /**
   * Concurrent misses of one key always share one execution in this process. `lock: true` also
   * serializes them across processes with a backend lock; waiters poll the stored value. Default `false`.
   */
  lock?: boolean;
  /**
   * Longest time the cross-process lock is held and waited for. Default: the TTL, capped at 30 s. `@Early`: also
   * the longest its refresh holds the `<key>:early` lock (one refresh at a time across processes).
   */
  lockTtl?: Duration;
  /** Polling interval of cross-process waiters. Default `'25ms'`; at most 2^31 - 1 ms (a timer waits for it). */
  step?: Duration;
}

/**
 * The age after which `@Early` and `@Soft` refresh a value: `value`, or a third of `ttl` by default; it must be
 * shorter than `ttl`, or the value would expire before it is ever refreshed. With a ttl function, `value` (if
 * given) is checked per call against each ttl the function answers, and `undefined` means a third of each.
 * @throws CashewsConfigError for an age that is not a fixed duration, or not shorter than a fixed `ttl`.
 */
export function refreshAge(
  where: string,
  option: string,
  value: Duration | undefined,
  ttl: StorePolicy['ttl'],
): number | undefined {
  if (typeof value === 'function') {
    throw new CashewsConfigError(
      `${where} ${option} must be a fixed duration such as '1m' or 60000 (got a function); with a ttl function it ` +
        'must be below every ttl the function answers.',
    );
  }
  const age = value === undefined ? undefined : parsePositiveDuration(value, `${where} ${option}`);
  if (typeof ttl !== 'number') return age;
  const resolved = age ?? Math.max(1, Math.floor(ttl / 3));
  if (resolved >= ttl) {
    throw new CashewsConfigError(`${where} ${option} (${resolved} ms) must be shorter than ttl (${ttl} ms).`);
  }
  return resolved;
}

export const STAMPEDE_OPTION_NAMES = ['lock', 'lockTtl', 'step'] as const;

export function stampedeOptions(
  where: string,
  options: StampedeDecoratorOptions,
  policy: StorePolicy,
): StampedeOptions {
  const fallback = typeof policy.ttl === 'number' ? Math.min(policy.ttl, 30_000) : 30_000;
  // Only `true` turns the lock on: 'yes', 1 or 'true' from a configuration file would run without it, unsaid.
  if (options.lock !== undefined && typeof options.lock !== 'boolean') {
    throw new CashewsConfigError(`${where}: lock must be true or false (got ${describeArgument(options.lock)}).`);
  }
  return {
    lock: options.lock === true,
    lockTtl: options.lockTtl === undefined ? fallback : parsePositiveDuration(options.lockTtl, `${where} lockTtl`),
    // Waiters sleep `step` on a timer, which Node fires after 1 ms when longer than it can wait.
    step: options.step === undefined ? 25 : parseTimerDuration(options.step, `${where} step`),
  };
}
