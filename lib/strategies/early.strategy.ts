import { randomUUID } from 'node:crypto';
import { MISS } from '../miss.js';
import { asEnvelope } from './envelope.js';
import { computeOnce, type StampedeOptions } from './stampede.js';
import { shouldStore, timed, ttlFor, type StorePolicy } from './store-policy.js';
import type { Next, Strategy, StrategyCache, StrategyCall } from './strategy.js';
import { defineStrategy, fixedTtlOf, type StrategyDefinition } from './layer.js';

export interface EarlyStrategyOptions extends StorePolicy, StampedeOptions {
  /** Age (ms) after which one caller refreshes in the background (the decorator's `earlyTtl`: an age, not a TTL). */
  refreshAfter: number;
}

async function refresh(call: StrategyCall, options: EarlyStrategyOptions, cache: StrategyCache, next: Next) {
  const { result, elapsed } = await timed(next);
  if (shouldStore(options, result, call.args, elapsed)) {
    await cache.set(call.key, { v: result, at: Date.now() + options.refreshAfter }, { ttl: ttlFor(options, result) });
  }
  return result;
}

/**
 * Serve the stored value; once it is older than `refreshAfter`, one caller across all processes (the one
 * that wins a backend lock) recomputes in the background while everyone keeps the current value.
 */
export const earlyStrategy: Strategy<EarlyStrategyOptions> = async (call, options, cache, next) => {
  const stored = asEnvelope(await cache.read(call.key));
  if (stored === MISS) {
    return computeOnce(
      call,
      cache,
      options,
      async () => {
        const again = asEnvelope(await cache.read(call.key));
        return again === MISS ? MISS : again.v;
      },
      () => refresh(call, options, cache, next),
    );
  }
  if (Date.now() >= stored.at) {
    call.background(async () => {
      const lockKey = `${call.key}:early`;
      const token = randomUUID();
      // The lock is left to expire after a successful refresh: the new value is not early until
      // `refreshAfter` has passed again, so nobody needs it sooner, and no late reader refreshes twice.
      if ((await cache.tryLock(lockKey, token, options.refreshAfter)) !== 'acquired') return;
      try {
        await refresh(call, options, cache, next);
      } catch (error) {
        await cache.unlock(lockKey, token);
        throw error;
      }
    });
  }
  await call.report({ strategy: 'early' });
  return stored.v;
};

/** `early` layers: stores results; entries live for the policy's fixed `ttl`. */
export const earlyDefinition: StrategyDefinition<EarlyStrategyOptions> = defineStrategy<EarlyStrategyOptions>({
  name: 'early',
  run: earlyStrategy,
  storesResult: true,
  traits: (options) => ({ ttl: fixedTtlOf(options) }),
});
