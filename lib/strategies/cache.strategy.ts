import { MISS } from '../miss.js';
import { Failure, fromStored, settle } from './cached-errors.js';
import { computeOnce, type StampedeOptions } from './stampede.js';
import { compute, storeOptions, type StorePolicy } from './store-policy.js';
import { errorName, type Strategy } from './strategy.js';
import { defineStrategy, fixedTtlOf, type StrategyDefinition } from './layer.js';

export interface CacheStrategyOptions extends StorePolicy, StampedeOptions {
  /** Controllers: the HTTP layer sends an ETag and answers 304 (read there, not by the strategy). */
  etag?: boolean;
}

/**
 * Serve the stored result until it expires; on a miss run the method once and store its result. A stored error
 * (`cacheErrors`) is re-thrown the same way.
 */
export const cacheStrategy: Strategy<CacheStrategyOptions> = async (call, options, cache, next) => {
  const stored = fromStored(options.errors, await cache.read(call.key));
  if (stored !== MISS) {
    const reported = call.report(
      stored instanceof Failure
        ? { strategy: 'cache', error: errorName(stored.error), lifetime: options.errors?.ttl }
        : { strategy: 'cache' },
    );
    if (reported) await reported;
    return settle(stored);
  }
  const answer = await computeOnce(
    call,
    cache,
    options,
    async () => fromStored(options.errors, await cache.read(call.key)),
    async () => {
      const computed = await compute(call, options, next);
      if (computed.store) await cache.set(call.key, computed.value, storeOptions(options, call, computed.ttl));
      return computed.answer;
    },
  );
  return settle(answer);
};

/** `cache` layers: stores results; entries live for the policy's fixed `ttl`. */
export const cacheDefinition: StrategyDefinition<CacheStrategyOptions> = defineStrategy<CacheStrategyOptions>({
  name: 'cache',
  run: cacheStrategy,
  storesResult: true,
  traits: (options) => ({ ttl: fixedTtlOf(options), etag: options.etag === true }),
});
