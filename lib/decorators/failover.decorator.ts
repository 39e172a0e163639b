import { CashewsConfigError } from '../errors.js';
import { exceptionsOption } from './protect-options.js';
import { failoverDefinition } from '../strategies/failover.strategy.js';
import { withTtl } from '../strategies/store-policy.js';
import type { ExceptionsOption } from '../strategies/strategy.js';
import {
  checkTags,
  ERROR_OPTION_NAMES,
  STORING_OPTION_NAMES,
  storingDecorator,
  type StoringDecoratorOptions,
} from './storing-options.js';
import { checkOptions, type KeyOptions } from './strategy-decorator.js';
import type { TypedMethodDecorator } from './typed-decorator.js';

/** Options of {@link Failover}: see each option, and the README section of the decorator. */
export interface FailoverDecoratorOptions<R = unknown, A extends readonly unknown[] = readonly unknown[]>
  extends KeyOptions<A>, StoringDecoratorOptions<R> {
  /** Errors that fall back to the stored success: error classes or a predicate. Default: any error. */
  exceptions?: ExceptionsOption;
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
  const errorOption = ERROR_OPTION_NAMES.find((name) => Object.hasOwn(options ?? {}, name));
  if (errorOption) {
    // It runs the method on every call: a stored error could only stand in for a failure, which would hide an
    // outage behind an old answer, and the method's own error needs no cache.
    throw new CashewsConfigError(
      `${where}: ${errorOption} does not apply: @Failover runs the method on every call and only falls back on ` +
        'failures, so a stored error would never be a fresher answer. Cache errors with @Cache, @HitCache, @Early ' +
        'or @Soft (e.g. stacked under @Failover).',
    );
  }
  checkOptions(where, options, [...STORING_OPTION_NAMES, 'exceptions']);
  checkTags(where, options.tags);
  return storingDecorator({
    where,
    definition: failoverDefinition,
    options: {
      ...withTtl(where, options as FailoverDecoratorOptions, (policy) => policy),
      exceptions: exceptionsOption(options.exceptions, `${where} exceptions`),
    },
    keys: options,
    tags: options.tags,
  }) as TypedMethodDecorator<R, A>;
}
