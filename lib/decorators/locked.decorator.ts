import { parseTimerDuration } from '../timer-duration.js';
import { parseDuration, parsePositiveDuration, type Duration } from '../duration.js';
import { lockedDefinition } from '../strategies/locked.strategy.js';
import {
  checkOptions,
  strategyDecorator,
  UNVERSIONED_KEY_OPTION_NAMES,
  type UnversionedKeyOptions,
} from './strategy-decorator.js';
import type { TypedMethodDecorator } from './typed-decorator.js';

/** Options of {@link Locked}: see each option, and the README section of the decorator. */
export interface LockedDecoratorOptions<
  A extends readonly unknown[] = readonly unknown[],
> extends UnversionedKeyOptions<A> {
  /** Longest a caller holds the lock; it expires by itself if the process dies. Default `'1m'`. */
  ttl?: Duration;
  /** `true` (default): wait up to `ttl`; `false`: throw `LockedError` at once; a duration: wait that long. */
  wait?: boolean | Duration;
  /** Polling interval of waiters. Default `'50ms'`; at most 2^31 - 1 ms (a timer waits for it). */
  step?: Duration;
}

/**
 * One execution at a time per key, across every process that shares the backend (a distributed lock).
 *
 * @example
 * ```ts
 * ;@Locked({ key: 'invoice:{id}', wait: false })
 * async charge(id: string): Promise<void> {
 *   return this.payments.charge(id);
 * }
 * ```
 */
export function Locked<A extends readonly unknown[] = readonly unknown[]>(
  options: LockedDecoratorOptions<A> = {},
): TypedMethodDecorator<unknown, A> {
  const where = '@Locked';
  checkOptions(where, options, ['ttl', 'wait', 'step'], UNVERSIONED_KEY_OPTION_NAMES);
  const wait = options.wait ?? true;
  return strategyDecorator({
    definition: lockedDefinition,
    options: {
      ttl: options.ttl === undefined ? 60_000 : parsePositiveDuration(options.ttl, `${where} ttl`),
      wait: typeof wait === 'boolean' ? wait : parseDuration(wait, `${where} wait`),
      // Waiters sleep `step` on a timer, which Node fires after 1 ms when longer than it can wait.
      step: options.step === undefined ? 50 : parseTimerDuration(options.step, `${where} step`),
    },
    keys: options,
  });
}
