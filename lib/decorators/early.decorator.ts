import type { Duration } from '../duration.js';
import { earlyStrategy } from '../strategies/early.strategy.js';
import { storePolicy } from '../strategies/store-policy.js';
import type { ConditionOption } from '../strategies/strategy.js';
import {
  refreshAge,
  STAMPEDE_OPTION_NAMES,
  stampedeOptions,
  type StampedeDecoratorOptions,
} from './stampede-options.js';
import { checkOptions, strategyDecorator, type KeyOptions } from './strategy-decorator.js';

export interface EarlyDecoratorOptions<R = unknown> extends KeyOptions, StampedeDecoratorOptions {
  /** Hard expiry of the stored value. */
  ttl: Duration;
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
export function Early<R = unknown>(options: EarlyDecoratorOptions<R>): MethodDecorator {
  const where = '@Early';
  checkOptions(where, options, ['ttl', 'earlyTtl', 'condition', ...STAMPEDE_OPTION_NAMES]);
  const policy = storePolicy(where, options as EarlyDecoratorOptions);
  const earlyTtl = refreshAge(where, 'earlyTtl', options.earlyTtl, policy.ttl as number);
  return strategyDecorator({
    strategy: 'early',
    run: earlyStrategy,
    options: { ...policy, ...stampedeOptions(where, options, policy), earlyTtl },
    keys: options,
    storesResult: true,
  });
}
