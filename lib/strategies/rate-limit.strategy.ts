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
export const rateLimitStrategy: Strategy<RateLimitStrategyOptions> = (call, options, cache, next) => {
  // Not `async`: the window's promise and one `then`, no frame of its own on every rate-limited call.
  try {
    return cache
      .fixedWindow(`${call.key}:rate`, options.limit, options.period, options.ttl)
      .then((state) => admit(call, options, state, next));
  } catch (error) {
    return Promise.reject(error);
  }
};

/**
 * Reports the window to the adapter, then runs the method, the `action`, or throws {@link RateLimitError}. Called
 * where a throw becomes a rejection (a `then` callback, an async function).
 */
export function admit(call: StrategyCall, options: OverLimitOptions, state: WindowState, next: Next): unknown {
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
