import { CashewsConfigError } from '../errors.js';
import { hitDefinition } from '../strategies/hit.strategy.js';
import { withTtl } from '../strategies/store-policy.js';
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

/** Options of {@link HitCache}: see each option, and the README section of the decorator. */
export interface HitCacheDecoratorOptions<R = unknown, A extends readonly unknown[] = readonly unknown[]>
  extends KeyOptions<A>, StoringDecoratorOptions<R>, ErrorCachingOptions {
  /** How many times one stored result (or stored error) is served before it is recomputed. */
  cacheHits: number;
  /** After this many hits, refresh in the background while hits continue. */
  updateAfter?: number;
}

/**
 * Serves a stored result `cacheHits` times (counted in the backend, so across processes), then recomputes.
 *
 * @example
 * ```ts
 * ;@HitCache({ ttl: '10m', cacheHits: 100, updateAfter: 80 })
 * async leaderboard(): Promise<{ user: string; score: number }[]> {
 *   return this.scores.top(100);
 * }
 * ```
 */
export function HitCache<R = unknown, A extends readonly unknown[] = readonly unknown[]>(
  options: HitCacheDecoratorOptions<R, A>,
): TypedMethodDecorator<R, A> {
  const where = '@HitCache';
  checkOptions(where, options, [...STORING_OPTION_NAMES, ...ERROR_OPTION_NAMES, 'cacheHits', 'updateAfter']);
  checkTags(where, options.tags);
  const { cacheHits, updateAfter } = options;
  if (!Number.isInteger(cacheHits) || cacheHits < 1) {
    throw new CashewsConfigError(`${where} cacheHits must be an integer >= 1 (got ${JSON.stringify(cacheHits)}).`);
  }
  if (updateAfter !== undefined && (!Number.isInteger(updateAfter) || updateAfter < 1 || updateAfter > cacheHits)) {
    throw new CashewsConfigError(
      `${where} updateAfter must be an integer between 1 and cacheHits (${cacheHits}); got ${JSON.stringify(updateAfter)}.`,
    );
  }
  const policy = withTtl(where, options as HitCacheDecoratorOptions, (store) => store);
  return storingDecorator({
    where,
    definition: hitDefinition,
    // In-process single flight only: a cross-process waiter cannot tell an exhausted value from a fresh one.
    options: { ...policy, cacheHits, updateAfter, lock: false, lockTtl: 0, step: 0 },
    keys: options,
    tags: options.tags,
  }) as TypedMethodDecorator<R, A>;
}
