import type { Duration } from '../duration.js';
import { earlyDefinition } from '../strategies/early.strategy.js';
import { withTtl } from '../strategies/store-policy.js';
import type { ConditionOption } from '../strategies/strategy.js';
import {
  refreshAge,
  STAMPEDE_OPTION_NAMES,
  stampedeOptions,
  type StampedeDecoratorOptions,
} from './stampede-options.js';
import { checkOptions, strategyDecorator, type KeyOptions } from './strategy-decorator.js';
import type { TypedMethodDecorator } from './typed-decorator.js';

/** Options of {@link Early}: see each option, and the README section of the decorator. */
export interface EarlyDecoratorOptions<R = unknown, A extends readonly unknown[] = readonly unknown[]>
  extends KeyOptions<A>, StampedeDecoratorOptions {
  /** Hard expiry of the stored value. Default: the cache instance's default TTL (`forRoot(url, { ttl })`). */
  ttl?: Duration;
  /** Age after which one caller refreshes in the background. Default: a third of `ttl`. */
  earlyTtl?: Duration;
  condition?: ConditionOption<R>;
}

/**
 * Keeps a value warm: after `earlyTtl`, one caller across all processes recomputes it in the background
 * while every caller keeps getting the current value, so callers never wait on expiry.
 *
 * @example
 * ```ts
 * ;@Early({ ttl: '10m', earlyTtl: '8m' })
 * async catalogue(): Promise<Product[]> {
 *   return this.products.findAll();
 * }
 * ```
 */
export function Early<R = unknown, A extends readonly unknown[] = readonly unknown[]>(
  options: EarlyDecoratorOptions<R, A>,
): TypedMethodDecorator<R, A> {
  const where = '@Early';
  checkOptions(where, options, ['ttl', 'earlyTtl', 'condition', ...STAMPEDE_OPTION_NAMES]);
  const store = withTtl(where, options as EarlyDecoratorOptions, (policy) => ({
    ...policy,
    ...stampedeOptions(where, options, policy),
    refreshAfter: refreshAge(where, 'earlyTtl', options.earlyTtl, policy.ttl as number),
  }));
  return strategyDecorator({
    definition: earlyDefinition,
    options: store,
    keys: options,
  });
}
