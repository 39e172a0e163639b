import { MISS } from '../miss.js';
import { Failure, fromStored, settle } from './cached-errors.js';
import { computeOnce, nothingFresh, type StampedeOptions } from './stampede.js';
import { compute, storeOptions, storeResult, storeWhenRecorded, ttlFor, type StorePolicy } from './store-policy.js';
import { errorName, type Next, type Strategy, type StrategyCache, type StrategyCall } from './strategy.js';
import { defineStrategy, fixedTtlOf, type StrategyDefinition } from './layer.js';

export interface HitStrategyOptions extends StorePolicy, StampedeOptions {
  /** Hits served from one stored result before it is recomputed. */
  cacheHits: number;
  /** After this many hits, refresh in the background (once per stored result). */
  updateAfter?: number;
}

/**
 * Runs the method and stores what it gave with a fresh hit budget; answers it (a {@link Failure} is not thrown).
 * `replacing`: an entry is stored (its budget is used up, or this is the `updateAfter` refresh).
 */
async function store(
  call: StrategyCall,
  options: HitStrategyOptions,
  cache: StrategyCache,
  next: Next,
  replacing: boolean,
) {
  const computed = await compute(call, options, next);
  const save = async (value: unknown, ttl: number) => {
    const stored = await storeResult(call, cache, call.key, value, storeOptions(options, call, ttl));
    // A value the codec refused was not written: the budget of an entry stored before is not renewed.
    if (stored !== undefined) await cache.set(`${call.key}:hits`, 0, { ttl });
  };
  storeWhenRecorded(call, computed, save);
  if (computed.store) {
    await save(computed.value, computed.ttl);
  } else if (computed.clears && replacing) {
    // An `onlyErrors` layer whose method succeeded again: the stored error it was recomputing is no answer now.
    await cache.delete(call.key);
  }
  return computed.answer;
}

/** Serve a stored result `cacheHits` times, then recompute; optionally refresh early after `updateAfter`. */
export const hitStrategy: Strategy<HitStrategyOptions> = async (call, options, cache, next) => {
  const stored = fromStored(options.errors, await cache.read(call.key, call));
  if (stored !== MISS) {
    const failed = stored instanceof Failure;
    // The counter lives in the backend so every process draws from the same budget.
    const ttl = failed ? options.errors!.ttl : ttlFor(options, stored, call.args);
    // A hit that could not be counted is a miss (logged in safe mode; a CacheBackendError without it).
    const hits = await cache.countHit(`${call.key}:hits`, ttl);
    if (hits !== undefined && hits <= options.cacheHits) {
      if (hits === options.updateAfter) call.background(() => recompute(call, options, cache, next, true));
      await call.report(
        failed
          ? { strategy: 'hit', error: errorName(stored.error), lifetime: options.errors!.ttl }
          : { strategy: 'hit' },
      );
      return settle(stored);
    }
  }
  return settle(await recompute(call, options, cache, next, stored !== MISS));
};

/**
 * {@link store} in the key's single flight: the `updateAfter` refresh and the recompute of a used-up value are one
 * run in this process, so a budget used up while the refresh runs waits for it instead of running the method again.
 */
function recompute(
  call: StrategyCall,
  options: HitStrategyOptions,
  cache: StrategyCache,
  next: Next,
  replacing: boolean,
): Promise<unknown> {
  // A recompute never finds a value stored meanwhile worth serving: its budget is what is being renewed.
  return computeOnce(call, cache, options, nothingFresh, () => store(call, options, cache, next, replacing));
}

/** `hit` layers: stores results; entries live for the policy's fixed `ttl`. */
export const hitDefinition: StrategyDefinition<HitStrategyOptions> = defineStrategy<HitStrategyOptions>({
  name: 'hit',
  run: hitStrategy,
  storesResult: true,
  traits: (options) => ({ ttl: fixedTtlOf(options) }),
});
