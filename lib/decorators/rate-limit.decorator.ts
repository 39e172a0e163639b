import { parsePositiveDuration, type Duration } from '../duration.js';
import { rateLimitDefinition } from '../strategies/rate-limit.strategy.js';
import { optionalFunction, positiveInteger } from './protect-options.js';
import {
  checkOptions,
  strategyDecorator,
  METHOD_KEY_OPTION_NAMES,
  type MethodKeyOptions,
} from './strategy-decorator.js';
import type { ProducingMethodDecorator } from './typed-decorator.js';

/** Options of {@link RateLimit}: see each option, and the README section of the decorator. */
export interface RateLimitDecoratorOptions<
  A extends readonly unknown[] = readonly unknown[],
  R = never,
> extends MethodKeyOptions<A> {
  /** Calls allowed per `period` per key (an integer >= 1). */
  limit: number;
  /** Window length. */
  period: Duration;
  /**
   * How long the first call over the limit bans the key. Default: `period`. A ban shorter than what is left of the
   * window does not shorten it: the key stays refused until the later of the two ends.
   */
  ttl?: Duration;
  /** Over the limit, called with the method's arguments instead of throwing; its return value is the result. */
  action?: (...args: A) => R | PromiseLike<R>;
}

/**
 * At most `limit` calls per `period` per key, shared by every process on the same backend (counted
 * atomically: one Lua script on Redis). Default key: the method, plus the client (`req.ip`) on controllers.
 * Over the limit: `action(...args)` if given, else `RateLimitError` (HTTP 429 with `Retry-After`).
 *
 * @example
 * ```ts
 * // on a controller handler: per client IP
 * ;@RateLimit({ limit: 10, period: '1m' })
 * search(@Query('q') q: string): Promise<Product[]> {
 *   return this.products.search(q);
 * }
 * ```
 * @example
 * ```ts
 * // per user
 * ;@RateLimit({ limit: 100, period: '1h', key: '{req.user.id}' })
 * report(@Req() req: { user: { id: string } }): Promise<string> {
 *   return this.reports.build(req.user.id);
 * }
 * ```
 */
export function RateLimit<A extends readonly unknown[] = readonly unknown[], R = never>(
  options: RateLimitDecoratorOptions<A, R>,
): ProducingMethodDecorator<R, A> {
  const where = '@RateLimit';
  checkOptions(where, options, ['limit', 'period', 'ttl', 'action'], METHOD_KEY_OPTION_NAMES);
  const period = parsePositiveDuration(options.period, `${where} period`);
  return strategyDecorator({
    definition: rateLimitDefinition,
    options: {
      limit: positiveInteger(options.limit, `${where} limit`),
      period,
      ttl: options.ttl === undefined ? period : parsePositiveDuration(options.ttl, `${where} ttl`),
      action: optionalFunction<(...args: unknown[]) => unknown>(options.action, `${where} action`),
    },
    keys: options,
    defaultKey: 'client',
  });
}
