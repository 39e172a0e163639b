import type { Strategy } from './strategy.js';
import { defineStrategy, type StrategyDefinition } from './layer.js';

export interface LockedStrategyOptions {
  /** Longest a holder keeps the lock (ms); it expires by itself if the holder dies. */
  ttl: number;
  /** `false`: fail at once with `LockedError`; `true`: wait up to `ttl`; a number: wait that many ms. */
  wait: boolean | number;
  /** Polling interval of waiters (ms). */
  step: number;
}

/** One execution at a time per key, across every process sharing the backend. */
export const lockedStrategy: Strategy<LockedStrategyOptions> = (call, options, cache, next) =>
  cache.lock(`${call.key}:locked`, options.ttl, next, { wait: options.wait, step: options.step });

/** `locked` layers: stores nothing. */
export const lockedDefinition: StrategyDefinition<LockedStrategyOptions> = defineStrategy<LockedStrategyOptions>({
  name: 'locked',
  run: lockedStrategy,
  storesResult: false,
});
