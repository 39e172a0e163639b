import type { Duration } from '../duration.js';
import { softDefinition } from '../strategies/soft.strategy.js';
import { withTtl } from '../strategies/store-policy.js';
import type { ConditionOption, ExceptionsOption } from '../strategies/strategy.js';
import {
  refreshAge,
  STAMPEDE_OPTION_NAMES,
  stampedeOptions,
  type StampedeDecoratorOptions,
} from './stampede-options.js';
import { checkOptions, strategyDecorator, type KeyOptions } from './strategy-decorator.js';
import type { TypedMethodDecorator } from './typed-decorator.js';

/** Options of {@link Soft}: see each option, and the README section of the decorator. */
export interface SoftDecoratorOptions<R = unknown, A extends readonly unknown[] = readonly unknown[]>
  extends KeyOptions<A>, StampedeDecoratorOptions {
  /**
   * Hard expiry: how long a stale value may stand in for failed recomputes. Default: the cache instance's
   * default TTL (`forRoot(url, { ttl })`).
   */
  ttl?: Duration;
  /** Age after which the value is recomputed on the next call. Default: a third of `ttl`. */
  softTtl?: Duration;
  /** Recompute errors that fall back to the stale value. Default: any error. */
  exceptions?: ExceptionsOption;
  condition?: ConditionOption<R>;
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
  checkOptions(where, options, ['ttl', 'softTtl', 'exceptions', 'condition', ...STAMPEDE_OPTION_NAMES]);
  const store = withTtl(where, options as SoftDecoratorOptions, (policy) => ({
    ...policy,
    ...stampedeOptions(where, options, policy),
    freshFor: refreshAge(where, 'softTtl', options.softTtl, policy.ttl as number),
  }));
  return strategyDecorator({
    definition: softDefinition,
    options: { ...store, exceptions: options.exceptions },
    keys: options,
  });
}
