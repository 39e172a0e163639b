import { parsePositiveDuration, type Duration } from '../duration.js';
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
  /** Longest time the cross-process lock is held and waited for. Default: the TTL, capped at 30 s. */
  lockTtl?: Duration;
  /** Polling interval of cross-process waiters. Default `'25ms'`. */
  step?: Duration;
}

/**
 * The age after which `@Early` and `@Soft` refresh a value: `value`, or a third of `ttl` by default; it must be
 * shorter than `ttl`, or the value would expire before it is ever refreshed.
 */
export function refreshAge(where: string, option: string, value: Duration | undefined, ttl: number): number {
  const age =
    value === undefined ? Math.max(1, Math.floor(ttl / 3)) : parsePositiveDuration(value, `${where} ${option}`);
  if (age >= ttl) throw new CashewsConfigError(`${where} ${option} (${age} ms) must be shorter than ttl (${ttl} ms).`);
  return age;
}

export const STAMPEDE_OPTION_NAMES = ['lock', 'lockTtl', 'step'] as const;

export function stampedeOptions(
  where: string,
  options: StampedeDecoratorOptions,
  policy: StorePolicy,
): StampedeOptions {
  const fallback = typeof policy.ttl === 'number' ? Math.min(policy.ttl, 30_000) : 30_000;
  return {
    lock: options.lock === true,
    lockTtl: options.lockTtl === undefined ? fallback : parsePositiveDuration(options.lockTtl, `${where} lockTtl`),
    step: options.step === undefined ? 25 : parsePositiveDuration(options.step, `${where} step`),
  };
}
