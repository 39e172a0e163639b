import { MISS } from '../miss.js';
import { computeOnce, type StampedeOptions } from './stampede.js';
import { shouldStore, timed, ttlFor, type StorePolicy } from './store-policy.js';
import type { Next, Strategy, StrategyCache, StrategyCall } from './strategy.js';
import { defineStrategy, fixedTtlOf, type StrategyDefinition } from './layer.js';

export interface HitStrategyOptions extends StorePolicy, StampedeOptions {
  /** Hits served from one stored result before it is recomputed. */
  cacheHits: number;
  /** After this many hits, refresh in the background (once per stored result). */
  updateAfter?: number;
}

async function store(call: StrategyCall, options: HitStrategyOptions, cache: StrategyCache, next: Next) {
  const { result, elapsed } = await timed(next);
  if (shouldStore(options, result, call.args, elapsed)) {
    const ttl = ttlFor(options, result);
    await cache.set(call.key, result, { ttl });
    await cache.set(`${call.key}:hits`, 0, { ttl });
  }
  return result;
}

/** Serve a stored result `cacheHits` times, then recompute; optionally refresh early after `updateAfter`. */
export const hitStrategy: Strategy<HitStrategyOptions> = async (call, options, cache, next) => {
  const stored = await cache.read(call.key);
  if (stored !== MISS) {
    // The counter lives in the backend so every process draws from the same budget.
    const hits = await cache.incr(`${call.key}:hits`, 1, { ttl: ttlFor(options, stored) }).catch(() => undefined);
    if (hits !== undefined && hits <= options.cacheHits) {
      if (hits === options.updateAfter) call.background(() => store(call, options, cache, next));
      await call.report({ strategy: 'hit' });
      return stored;
    }
  }
  return computeOnce(
    call,
    cache,
    options,
    async () => MISS,
    () => store(call, options, cache, next),
  );
};

/** `hit` layers: stores results; entries live for the policy's fixed `ttl`. */
export const hitDefinition: StrategyDefinition<HitStrategyOptions> = defineStrategy<HitStrategyOptions>({
  name: 'hit',
  run: hitStrategy,
  storesResult: true,
  traits: (options) => ({ ttl: fixedTtlOf(options) }),
});
