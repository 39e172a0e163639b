import { CashewsConfigError } from '../errors.js';
import { parseDuration, parsePositiveDuration } from '../duration.js';
import { transactionalDefinition } from '../strategies/transactional.strategy.js';
import type { TransactionOptions } from '../transactions/transaction.js';
import { checkOptions, strategyDecorator } from './strategy-decorator.js';
import type { TypedMethodDecorator } from './typed-decorator.js';

/** Options of {@link Transactional}: the transaction's (see `cache.transaction`), and the cache instance. */
export interface TransactionalOptions extends TransactionOptions {
  /** Name of the cache instance whose writes the transaction holds. Default: the default instance. */
  cache?: string;
}

const MODES = ['fast', 'locked', 'serializable'];

/**
 * Runs the method in a transaction of the cache instance: every cache write it makes, directly or through the
 * decorated methods it calls, is committed when it resolves and discarded when it throws. A transaction already
 * running in the caller's context is joined, so decorated methods calling each other share one transaction.
 *
 * @example
 * ```ts
 * ;@Transactional({ mode: 'locked', timeout: '2s' })
 * async checkout(cartId: string): Promise<void> {
 *   await this.cache.delete(`cart:${cartId}`);
 *   await this.cache.incr('orders:today');
 * }
 * ```
 */
export function Transactional(options: TransactionalOptions = {}): TypedMethodDecorator<unknown, readonly unknown[]> {
  const where = '@Transactional';
  checkOptions(where, options, ['mode', 'timeout', 'lockTtl'], ['cache']);
  const mode = options.mode ?? 'locked';
  if (!MODES.includes(mode)) {
    throw new CashewsConfigError(
      `${where}: mode must be 'fast', 'locked' (default) or 'serializable' (got ${JSON.stringify(mode)}).`,
    );
  }
  return strategyDecorator({
    definition: transactionalDefinition,
    options: {
      mode,
      timeout: parseDuration(options.timeout ?? '10s', `${where} timeout`),
      lockTtl: parsePositiveDuration(options.lockTtl ?? '1m', `${where} lockTtl`),
    },
    keys: { cache: options.cache },
    defaultKey: 'method',
  }) as TypedMethodDecorator<unknown, readonly unknown[]>;
}
