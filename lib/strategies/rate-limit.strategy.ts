import type { WindowState } from '../backends/protect-types.js';
import { RateLimitError } from '../errors.js';
import type { Next, Strategy, StrategyCall } from './strategy.js';
import { defineStrategy, type StrategyDefinition } from './layer.js';

/** What both rate-limit strategies do over the limit. */
export interface OverLimitOptions {
  limit: number;
  /** Called with the method's arguments instead of it when over the limit; its return value is the result. */
  action?: (...args: unknown[]) => unknown;
}

export interface RateLimitStrategyOptions extends OverLimitOptions {
  /** Window length (ms). */
  period: number;
  /** How long the key is banned after the first call over the limit (ms). */
  ttl: number;
}

/**
 * At most `limit` calls per `period` per key, counted atomically in the backend (one Lua script on Redis), so
 * every process sharing the backend shares the limit. The first call over the limit bans the key for `ttl`.
 */
export const rateLimitStrategy: Strategy<RateLimitStrategyOptions> = async (call, options, cache, next) => {
  const state = await cache.fixedWindow(`${call.key}:rate`, options.limit, options.period, options.ttl);
  return admit(call, options, state, next);
};

/** Reports the window to the adapter, then runs the method, the `action`, or throws {@link RateLimitError}. */
export async function admit(call: StrategyCall, options: OverLimitOptions, state: WindowState, next: Next) {
  call.reportLimit?.({ allowed: state.allowed, limit: options.limit, remaining: state.remaining, reset: state.reset });
  if (state.allowed) return next();
  if (options.action) return options.action(...call.args);
  throw new RateLimitError(call.key, options.limit, state.reset);
}

/** `rate-limit` layers: stores nothing. */
export const rateLimitDefinition: StrategyDefinition<RateLimitStrategyOptions> =
  defineStrategy<RateLimitStrategyOptions>({
    name: 'rate-limit',
    run: rateLimitStrategy,
    storesResult: false,
  });
