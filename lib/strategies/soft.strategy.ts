import { MISS } from '../miss.js';
import { Failure, fromStored, settle } from './cached-errors.js';
import { asEnvelope } from './envelope.js';
import { computeOnce, type StampedeOptions } from './stampede.js';
import {
  compute,
  refreshAgeFor,
  storeOptions,
  storeResult,
  storeWhenRecorded,
  type StorePolicy,
} from './store-policy.js';
import { errorName, matchesExceptions, type ExceptionsOption, type Strategy } from './strategy.js';
import { defineStrategy, fixedTtlOf, type StrategyDefinition } from './layer.js';

export interface SoftStrategyOptions extends StorePolicy, StampedeOptions {
  /**
   * Age (ms) after which the value is recomputed on the next call (the decorator's `softTtl`: an age, not a TTL).
   * Unset: a third of each entry's ttl (a ttl function without `softTtl`).
   */
  freshFor?: number;
  exceptions?: ExceptionsOption;
}

/**
 * Fresh for `freshFor`, then recomputed on the next call; if that recompute fails with one of
 * `exceptions`, the stale value keeps being served until the hard `ttl`. A stored error (`cacheErrors`) is
 * fresh until it expires, and never stands in for a failed recompute; an error of a `cacheErrors` class is an
 * answer, stored and thrown, not a failure that `exceptions` absorb.
 */
export const softStrategy: Strategy<SoftStrategyOptions> = async (call, options, cache, next) => {
  const stored = asEnvelope(await cache.read(call.key, call));
  const current = stored === MISS ? MISS : fromStored(options.errors, stored.v);
  if (stored !== MISS && current !== MISS && Date.now() < stored.at) {
    await call.report(
      current instanceof Failure
        ? { strategy: 'soft', error: errorName(current.error), lifetime: options.errors?.ttl }
        : { strategy: 'soft' },
    );
    return settle(current);
  }
  let answer: unknown;
  try {
    answer = await computeOnce(
      call,
      cache,
      options,
      async () => {
        const again = asEnvelope(await cache.read(call.key));
        if (again === MISS || Date.now() >= again.at) return MISS;
        return fromStored(options.errors, again.v);
      },
      async () => {
        const computed = await compute(call, options, next);
        const save = (value: unknown, ttl: number, failed = false) => {
          const age = failed ? undefined : refreshAgeFor(call, 'softTtl', options.freshFor, ttl);
          const entry = { v: value, at: Date.now() + (age ?? ttl) };
          return storeResult(call, cache, call.key, entry, storeOptions(options, call, ttl));
        };
        storeWhenRecorded(call, computed, save);
        if (computed.store) {
          await save(computed.value, computed.ttl, computed.answer instanceof Failure);
        } else if (computed.clears && stored !== MISS) {
          // An `onlyErrors` layer whose method succeeded again: the stored error must not outlive the success.
          await cache.delete(call.key);
        }
        return computed.answer;
      },
    );
  } catch (error) {
    if (current === MISS || current instanceof Failure || !matchesExceptions(options.exceptions, error)) throw error;
    await call.report({ strategy: 'soft', stale: true, exception: errorName(error) });
    return settle(current);
  }
  return settle(answer);
};

/** `soft` layers: stores results; entries live for the policy's fixed `ttl`. */
export const softDefinition: StrategyDefinition<SoftStrategyOptions> = defineStrategy<SoftStrategyOptions>({
  name: 'soft',
  run: softStrategy,
  storesResult: true,
  traits: (options) => ({ ttl: fixedTtlOf(options) }),
});
