import type { Duration } from '../duration.js';
import { CashewsConfigError } from '../errors.js';
import { earlyDefinition } from '../strategies/early.strategy.js';
import { withTtl } from '../strategies/store-policy.js';
import type { TtlOption } from '../strategies/strategy.js';
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

/** Options of {@link Early}: see each option, and the README section of the decorator. */
export interface EarlyDecoratorOptions<R = unknown, A extends readonly unknown[] = readonly unknown[]>
  extends KeyOptions<A>, StoringDecoratorOptions<R>, ErrorCachingOptions, StampedeDecoratorOptions {
  /**
   * Hard expiry of the stored value: a duration, or a function of the result and the call's arguments. Default:
   * the cache instance's default TTL (`forRoot(url, { ttl })`).
   */
  ttl?: TtlOption<R>;
  /**
   * Age after which one caller refreshes the value, a fixed duration below `ttl`. Default: a third of `ttl` (with
   * a ttl function, of each ttl it answers). With a ttl function, an answer not above `earlyTtl` is logged once,
   * and such a value is stored without an early refresh.
   */
  earlyTtl?: Duration;
  /**
   * `true` (default): the refresh runs in the background and every caller gets the current value. `false`: the
   * caller that wins the refresh waits for it and gets the new value (the current one if the refresh fails);
   * the others keep getting the current value.
   */
  background?: boolean;
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
  checkOptions(where, options, [
    ...STORING_OPTION_NAMES,
    ...ERROR_OPTION_NAMES,
    'earlyTtl',
    'background',
    ...STAMPEDE_OPTION_NAMES,
  ]);
  checkTags(where, options.tags);
  if (options.background !== undefined && typeof options.background !== 'boolean') {
    throw new CashewsConfigError(
      `${where}: background must be true or false (got ${JSON.stringify(options.background)}).`,
    );
  }
  const store = withTtl(where, options as EarlyDecoratorOptions, (policy) => ({
    ...policy,
    ...stampedeOptions(where, options, policy),
    refreshAfter: refreshAge(where, 'earlyTtl', options.earlyTtl, policy.ttl),
    background: options.background !== false,
  }));
  return storingDecorator({
    where,
    definition: earlyDefinition,
    options: store,
    keys: options,
    tags: options.tags,
  }) as TypedMethodDecorator<R, A>;
}
