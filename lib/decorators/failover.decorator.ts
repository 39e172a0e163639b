import { failoverStrategy } from '../strategies/failover.strategy.js';
import { storePolicy } from '../strategies/store-policy.js';
import type { ConditionOption, ExceptionsOption, TtlOption } from '../strategies/strategy.js';
import { checkOptions, strategyDecorator, type KeyOptions } from './strategy-decorator.js';

export interface FailoverDecoratorOptions<R = unknown> extends KeyOptions {
  /** How long the last success is kept as a fallback. */
  ttl: TtlOption<R>;
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
 * async prices(): Promise<Price[]> {
 *   return this.upstream.prices();
 * }
 * ```
 */
export function Failover<R = unknown>(options: FailoverDecoratorOptions<R>): MethodDecorator {
  const where = '@Failover';
  checkOptions(where, options, ['ttl', 'exceptions', 'condition']);
  return strategyDecorator({
    strategy: 'failover',
    run: failoverStrategy,
    options: { ...storePolicy(where, options as FailoverDecoratorOptions), exceptions: options.exceptions },
    keys: options,
    storesResult: true,
  });
}
