import { admit, type OverLimitOptions } from './rate-limit.strategy.js';
import type { Strategy } from './strategy.js';
import { defineStrategy, type StrategyDefinition } from './layer.js';

export interface SlidingRateLimitStrategyOptions extends OverLimitOptions {
  /** Window length (ms): at most `limit` allowed calls in any `period`. */
  period: number;
}

/**
 * At most `limit` calls in any `period` (a log of allowed calls, a sorted set on Redis), so a burst at the
 * edge of two fixed windows cannot pass twice the limit. Rejected calls are not counted.
 */
export const slidingRateLimitStrategy: Strategy<SlidingRateLimitStrategyOptions> = async (
  call,
  options,
  cache,
  next,
) => {
  const state = await cache.slidingWindow(`${call.key}:sliding`, options.limit, options.period);
  return admit(call, options, state, next);
};

/** `sliding-rate-limit` layers: stores nothing. */
export const slidingRateLimitDefinition: StrategyDefinition<SlidingRateLimitStrategyOptions> =
  defineStrategy<SlidingRateLimitStrategyOptions>({
    name: 'sliding-rate-limit',
    run: slidingRateLimitStrategy,
    storesResult: false,
  });
