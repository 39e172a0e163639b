import type { KeyFunction } from '../keys/key-template.js';
import { MISS } from '../miss.js';
import { renderTags } from '../tags/tag-templates.js';
import { computeOnce, type StampedeOptions } from './stampede.js';
import { shouldStore, timed, ttlFor, type StorePolicy } from './store-policy.js';
import type { Strategy } from './strategy.js';
import { defineStrategy, fixedTtlOf, type StrategyDefinition } from './layer.js';

export interface CacheStrategyOptions extends StorePolicy, StampedeOptions {
  /** Compiled tag templates; each stored result is recorded under the rendered tags. */
  tags?: readonly KeyFunction[];
  /** Controllers: the HTTP layer sends an ETag and answers 304 (read there, not by the strategy). */
  etag?: boolean;
}

/** Serve the stored result until it expires; on a miss run the method once and store its result. */
export const cacheStrategy: Strategy<CacheStrategyOptions> = async (call, options, cache, next) => {
  const stored = await cache.read(call.key);
  if (stored !== MISS) {
    const reported = call.report({ strategy: 'cache' });
    if (reported) await reported;
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
        const tags = renderTags(options.tags, call.source ?? { args: call.args });
        await cache.set(call.key, result, { ttl: ttlFor(options, result), ...(tags ? { tags } : {}) });
      }
      return result;
    },
  );
};

/** `cache` layers: stores results; entries live for the policy's fixed `ttl`. */
export const cacheDefinition: StrategyDefinition<CacheStrategyOptions> = defineStrategy<CacheStrategyOptions>({
  name: 'cache',
  run: cacheStrategy,
  storesResult: true,
  traits: (options) => ({ ttl: fixedTtlOf(options), etag: options.etag === true }),
});
