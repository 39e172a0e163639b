import type { TransactionMode } from '../transactions/transaction.js';
import type { Strategy } from './strategy.js';
import { defineStrategy, type StrategyDefinition } from './layer.js';

export interface TransactionalStrategyOptions {
  mode: TransactionMode;
  /** Longest wait for a lock (ms). */
  timeout: number;
  /** Longest a lock is held (ms). */
  lockTtl: number;
}

/**
 * The decorated call runs in a transaction of its cache instance (joined when one is already running in the
 * caller's async context): what it writes is committed when it resolves, discarded when it throws.
 */
export const transactionalStrategy: Strategy<TransactionalStrategyOptions> = (_call, options, cache, next) =>
  cache.transaction(() => next(), options);

/** `transactional` layers: store nothing themselves (the writes of the call are committed by the transaction). */
export const transactionalDefinition: StrategyDefinition<TransactionalStrategyOptions> =
  defineStrategy<TransactionalStrategyOptions>({
    name: 'transactional',
    run: transactionalStrategy,
    storesResult: false,
  });
