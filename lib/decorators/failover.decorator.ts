import { failoverDefinition } from '../strategies/failover.strategy.js';
import { withTtl } from '../strategies/store-policy.js';
import type { ConditionOption, ExceptionsOption, TtlOption } from '../strategies/strategy.js';
import { checkOptions, strategyDecorator, type KeyOptions } from './strategy-decorator.js';
import type { TypedMethodDecorator } from './typed-decorator.js';

/** Options of {@link Failover}: see each option, and the README section of the decorator. */
export interface FailoverDecoratorOptions<
  R = unknown,
  A extends readonly unknown[] = readonly unknown[],
> extends KeyOptions<A> {
  /**
   * How long the last success is kept as a fallback. Default: the cache instance's default TTL
   * (`forRoot(url, { ttl })`).
   */
  ttl?: TtlOption<R>;
  /** Errors that fall back to the stored success: error classes or a predicate. Default: any error. */
  exceptions?: ExceptionsOption;
  /** Store only successes for which this holds. */
  condition?: ConditionOption<R>;
}

/**
 * Always runs the method and keeps its last success; when it throws one of `exceptions`, answers the last
 * success instead (re-throws when nothing is stored).
 *
 * @example
 * ```ts
 * ;@Failover({ ttl: '1h', exceptions: [UpstreamError] })
 * async prices(): Promise<Record<string, number>> {
 *   return this.upstream.prices();
 * }
 * ```
 */
export function Failover<R = unknown, A extends readonly unknown[] = readonly unknown[]>(
  options: FailoverDecoratorOptions<R, A>,
): TypedMethodDecorator<R, A> {
  const where = '@Failover';
  checkOptions(where, options, ['ttl', 'exceptions', 'condition']);
  return strategyDecorator({
    definition: failoverDefinition,
    options: {
      ...withTtl(where, options as FailoverDecoratorOptions, (policy) => policy),
      exceptions: options.exceptions,
    },
    keys: options,
  });
}
