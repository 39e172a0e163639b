import type { Duration } from '../duration.js';
import { softDefinition } from '../strategies/soft.strategy.js';
import { exceptionsOption } from './protect-options.js';
import { withTtl } from '../strategies/store-policy.js';
import type { ExceptionsOption, TtlOption } from '../strategies/strategy.js';
import {
  refreshAge,
  STAMPEDE_OPTION_NAMES,
  stampedeOptions,
  type StampedeDecoratorOptions,
} from './stampede-options.js';
import {
  checkTags,
  ERROR_OPTION_NAMES,
  STORING_OPTION_NAMES,
  storingDecorator,
  type ErrorCachingOptions,
  type StoringDecoratorOptions,
} from './storing-options.js';
import { checkOptions, type KeyOptions } from './strategy-decorator.js';
import type { TypedMethodDecorator } from './typed-decorator.js';

/** Options of {@link Soft}: see each option, and the README section of the decorator. */
export interface SoftDecoratorOptions<R = unknown, A extends readonly unknown[] = readonly unknown[]>
  extends KeyOptions<A>, StoringDecoratorOptions<R>, ErrorCachingOptions, StampedeDecoratorOptions {
  /**
   * Hard expiry: how long a stale value may stand in for failed recomputes; a duration, or a function of the
   * result and the call's arguments. Default: the cache instance's default TTL (`forRoot(url, { ttl })`).
   */
  ttl?: TtlOption<R>;
  /**
   * Age after which the value is recomputed on the next call, a fixed duration below `ttl`. Default: a third of
   * `ttl` (with a ttl function, of each ttl it answers). With a ttl function, an answer not above `softTtl` is
   * logged once, and such a value is fresh until it expires.
   */
  softTtl?: Duration;
  /**
   * Recompute errors that fall back to the stale value. Default: any error. Errors of `cacheErrors` classes are
   * answers, stored and thrown, never absorbed.
   */
  exceptions?: ExceptionsOption;
}

/**
 * Fresh for `softTtl`, then recomputed; when the recompute throws, the stale value is served until `ttl`.
 *
 * @example
 * ```ts
 * ;@Soft({ ttl: '1h', softTtl: '1m' })
 * async exchangeRates(): Promise<Record<string, number>> {
 *   return this.bank.rates();
 * }
 * ```
 */
export function Soft<R = unknown, A extends readonly unknown[] = readonly unknown[]>(
  options: SoftDecoratorOptions<R, A>,
): TypedMethodDecorator<R, A> {
  const where = '@Soft';
  checkOptions(where, options, [
    ...STORING_OPTION_NAMES,
    ...ERROR_OPTION_NAMES,
    'softTtl',
    'exceptions',
    ...STAMPEDE_OPTION_NAMES,
  ]);
  checkTags(where, options.tags);
  const store = withTtl(where, options as SoftDecoratorOptions, (policy) => ({
    ...policy,
    ...stampedeOptions(where, options, policy),
    freshFor: refreshAge(where, 'softTtl', options.softTtl, policy.ttl),
  }));
  return storingDecorator({
    where,
    definition: softDefinition,
    options: { ...store, exceptions: exceptionsOption(options.exceptions, `${where} exceptions`) },
    keys: options,
    tags: options.tags,
  }) as TypedMethodDecorator<R, A>;
}
