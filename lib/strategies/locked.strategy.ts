import { Recording } from '../streams/recording.js';
import { streamKindOf } from '../streams/stream-kind.js';
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

/**
 * One execution at a time per key, across every process sharing the backend. A streamed result (async iterable,
 * Observable, readable stream, `StreamableFile`) is part of the execution: the lock is held until the caller has
 * read it to its end (or left it), at most the lock's `ttl`.
 */
export const lockedStrategy: Strategy<LockedStrategyOptions> = (call, options, cache, next) =>
  cache
    .lock(
      `${call.key}:locked`,
      options.ttl,
      async () => {
        const result = await next();
        const kind = streamKindOf(result);
        return kind ? new Recording(result, kind, { maxBytes: 0 }) : result;
      },
      {
        wait: options.wait,
        step: options.step,
        holdUntil: (result) => (result instanceof Recording ? result.settled() : undefined),
      },
    )
    .then((result) => (result instanceof Recording ? result.consumer() : result));

/** `locked` layers: stores nothing. */
export const lockedDefinition: StrategyDefinition<LockedStrategyOptions> = defineStrategy<LockedStrategyOptions>({
  name: 'locked',
  run: lockedStrategy,
  storesResult: false,
});
