import { MISS } from '../miss.js';
import { asEnvelope } from './envelope.js';
import { computeOnce, type StampedeOptions } from './stampede.js';
import { shouldStore, timed, ttlFor, type StorePolicy } from './store-policy.js';
import { errorName, matchesExceptions, type ExceptionsOption, type Strategy } from './strategy.js';
import { defineStrategy, fixedTtlOf, type StrategyDefinition } from './layer.js';

export interface SoftStrategyOptions extends StorePolicy, StampedeOptions {
  /** Age (ms) after which the value is recomputed on the next call (the decorator's `softTtl`: an age, not a TTL). */
  freshFor: number;
  exceptions?: ExceptionsOption;
}

/**
 * Fresh for `freshFor`, then recomputed on the next call; if that recompute fails with one of
 * `exceptions`, the stale value keeps being served until the hard `ttl`.
 */
export const softStrategy: Strategy<SoftStrategyOptions> = async (call, options, cache, next) => {
  const stored = asEnvelope(await cache.read(call.key));
  if (stored !== MISS && Date.now() < stored.at) {
    await call.report({ strategy: 'soft' });
    return stored.v;
  }
  try {
    return await computeOnce(
      call,
      cache,
      options,
      async () => {
        const again = asEnvelope(await cache.read(call.key));
        return again !== MISS && Date.now() < again.at ? again.v : MISS;
      },
      async () => {
        const { result, elapsed } = await timed(next);
        if (shouldStore(options, result, call.args, elapsed)) {
          await cache.set(call.key, { v: result, at: Date.now() + options.freshFor }, { ttl: ttlFor(options, result) });
        }
        return result;
      },
    );
  } catch (error) {
    if (stored === MISS || !matchesExceptions(options.exceptions, error)) throw error;
    await call.report({ strategy: 'soft', stale: true, exception: errorName(error) });
    return stored.v;
  }
};

/** `soft` layers: stores results; entries live for the policy's fixed `ttl`. */
export const softDefinition: StrategyDefinition<SoftStrategyOptions> = defineStrategy<SoftStrategyOptions>({
  name: 'soft',
  run: softStrategy,
  storesResult: true,
  traits: (options) => ({ ttl: fixedTtlOf(options) }),
});
