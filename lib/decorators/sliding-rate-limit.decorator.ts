import { parsePositiveDuration, type Duration } from '../duration.js';
import { slidingRateLimitDefinition } from '../strategies/sliding-rate-limit.strategy.js';
import { optionalFunction, positiveInteger } from './protect-options.js';
import {
  checkOptions,
  strategyDecorator,
  METHOD_KEY_OPTION_NAMES,
  type MethodKeyOptions,
} from './strategy-decorator.js';

import type { ProducingMethodDecorator } from './typed-decorator.js';

/**
 * Options of {@link SlidingRateLimit}: see each option, and the README section of the decorator. Of the key options, not
 * `skipArgs` (the default key is the method, not its arguments) nor `version` (nothing is stored to version).
 */
export interface SlidingRateLimitDecoratorOptions<
  A extends readonly unknown[] = readonly unknown[],
  R = never,
> extends MethodKeyOptions<A> {
  /** Calls allowed in any `period` per key (an integer >= 1). */
  limit: number;
  /** Window length. */
  period: Duration;
  /** Over the limit, called with the method's arguments instead of throwing; its return value is the result. */
  action?: (...args: A) => R | PromiseLike<R>;
}

/**
 * Like `@RateLimit`, but over a sliding window (a sorted set on Redis): at most `limit` calls in any
 * `period`, so a burst at the edge of two fixed windows cannot pass twice the limit. Rejected calls do not
 * count. Default key: the method, plus the client (`req.ip`) on controllers.
 *
 * @example
 * ```ts
 * // on a controller handler
 * ;@SlidingRateLimit({ limit: 5, period: '10s', key: 'login:{body.email:lower}' })
 * login(@Body() body: { email: string; password: string }): Promise<{ token: string }> {
 *   return this.auth.login(body);
 * }
 * ```
 */
export function SlidingRateLimit<A extends readonly unknown[] = readonly unknown[], R = never>(
  options: SlidingRateLimitDecoratorOptions<A, R>,
): ProducingMethodDecorator<R, A> {
  const where = '@SlidingRateLimit';
  checkOptions(where, options, ['limit', 'period', 'action'], METHOD_KEY_OPTION_NAMES);
  return strategyDecorator({
    definition: slidingRateLimitDefinition,
    options: {
      limit: positiveInteger(options.limit, `${where} limit`),
      period: parsePositiveDuration(options.period, `${where} period`),
      action: optionalFunction<(...args: unknown[]) => unknown>(options.action, `${where} action`),
    },
    keys: options,
    defaultKey: 'client',
  });
}
