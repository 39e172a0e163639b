import { MISS } from '../miss.js';
import { computeOnce, type StampedeOptions } from './stampede.js';
import { shouldStore, timed, ttlFor, type StorePolicy } from './store-policy.js';
import type { Strategy } from './strategy.js';

export interface CacheStrategyOptions extends StorePolicy, StampedeOptions {}

/** Serve the stored result until it expires; on a miss run the method once and store its result. */
export const cacheStrategy: Strategy<CacheStrategyOptions> = async (call, options, cache, next) => {
  const stored = await cache.read(call.key);
  if (stored !== MISS) {
    await call.report({ strategy: 'cache' });
    return stored;
  }
  return computeOnce(
    call,
    cache,
    options,
    () => cache.read(call.key),
    async () => {
      const { result, elapsed } = await timed(next);
      if (shouldStore(options, result, call.args, elapsed)) {
        await cache.set(call.key, result, { ttl: ttlFor(options, result) });
      }
      return result;
    },
  );
};
