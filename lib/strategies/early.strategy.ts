import { randomUUID } from 'node:crypto';
import { MISS } from '../miss.js';
import { Failure, fromStored, settle } from './cached-errors.js';
import { asEnvelope, type Envelope } from './envelope.js';
import { computeOnce, computeShared, whileLocked, type StampedeOptions } from './stampede.js';
import {
  compute,
  refreshAgeFor,
  storeOptions,
  storeResult,
  storeWhenRecorded,
  type Computed,
  type StorePolicy,
} from './store-policy.js';
import { errorName, type Next, type Strategy, type StrategyCache, type StrategyCall } from './strategy.js';
import { defineStrategy, fixedTtlOf, type StrategyDefinition } from './layer.js';

export interface EarlyStrategyOptions extends StorePolicy, StampedeOptions {
  /**
   * Age (ms) after which one caller refreshes (the decorator's `earlyTtl`: an age, not a TTL). Unset: a third of
   * each entry's ttl (a ttl function without `earlyTtl`).
   */
  refreshAfter?: number;
  /** `false`: the caller that wins the refresh waits for it instead of leaving it to the background. Default `true`. */
  background?: boolean;
}

/** The stored envelope of what a run gave; a stored error is not refreshed early: it is served until it expires. */
function envelope(call: StrategyCall, options: EarlyStrategyOptions, computed: Computed): Envelope {
  const age =
    computed.answer instanceof Failure
      ? undefined
      : refreshAgeFor(call, 'earlyTtl', options.refreshAfter, computed.ttl);
  return { v: computed.value, at: Date.now() + (age ?? computed.ttl) };
}

/** Runs the method and stores what it gave; `replacing`: a stored entry is being refreshed. */
async function refresh(
  call: StrategyCall,
  options: EarlyStrategyOptions,
  cache: StrategyCache,
  next: Next,
  replacing: boolean,
): Promise<unknown> {
  const computed = await compute(call, options, next);
  storeWhenRecorded(call, computed, (value, ttl) =>
    storeResult(
      call,
      cache,
      call.key,
      envelope(call, options, { ...computed, value, ttl }),
      storeOptions(options, call, ttl),
    ),
  );
  if (computed.store) {
    await storeResult(
      call,
      cache,
      call.key,
      envelope(call, options, computed),
      storeOptions(options, call, computed.ttl),
    );
  } else if (computed.clears && replacing) {
    // An `onlyErrors` layer whose method succeeded again: the stored error must not outlive the success.
    await cache.delete(call.key);
  }
  return computed.answer;
}

/** What {@link earlyRefresh} answers when another caller (in any process) holds the refresh. */
const NOT_MINE = Symbol('not mine');

/**
 * The refresh of an early entry, run by the caller that wins the `<key>:early` lock across all processes. The lock
 * is held for the whole refresh, at most `lockTtl` (a refresh that hangs must not stop every later one), and
 * released when it ends: the new value is due again `refreshAfter` after it was stored, whenever the lock was taken.
 */
async function earlyRefresh(
  call: StrategyCall,
  options: EarlyStrategyOptions,
  cache: StrategyCache,
  next: Next,
): Promise<unknown> {
  const lockKey = `${call.key}:early`;
  const token = randomUUID();
  if ((await cache.tryLock(lockKey, token, options.lockTtl)) !== 'acquired') return NOT_MINE;
  // A streamed result is stored once read to its end: the refresh holds the lock until then (or its ttl).
  return whileLocked(cache, lockKey, token, async () => {
    // A caller that read the entry before the last refresh stored its value may win the lock once it is released.
    const again = asEnvelope(await cache.read(call.key));
    if (again !== MISS && Date.now() < again.at) return NOT_MINE;
    // One run per key in this process: a refresh after the lock expired, or a miss meanwhile, joins this one.
    return computeShared(call, cache, options, () => refresh(call, options, cache, next, true));
  });
}

/**
 * Serve the stored value; once it is older than `refreshAfter`, one caller across all processes (the one
 * that wins a backend lock) recomputes in the background while everyone keeps the current value. With
 * `background: false` that caller waits for the refresh and answers its result (or, when it fails, the
 * current value, reported as stale).
 */
export const earlyStrategy: Strategy<EarlyStrategyOptions> = async (call, options, cache, next) => {
  const stored = asEnvelope(await cache.read(call.key, call));
  const current = stored === MISS ? MISS : fromStored(options.errors, stored.v);
  if (stored === MISS || current === MISS) {
    const answer = await computeOnce(
      call,
      cache,
      options,
      async () => {
        const again = asEnvelope(await cache.read(call.key));
        return again === MISS ? MISS : fromStored(options.errors, again.v);
      },
      // An entry that reads as a miss (a stored error that cannot be rebuilt) is still replaced.
      () => refresh(call, options, cache, next, stored !== MISS),
    );
    return settle(answer);
  }
  if (Date.now() >= stored.at) {
    if (options.background !== false) {
      call.background(() => earlyRefresh(call, options, cache, next));
    } else {
      try {
        const answer = await earlyRefresh(call, options, cache, next);
        if (answer !== NOT_MINE) return settle(answer);
      } catch (error) {
        await call.report({ strategy: 'early', stale: true, exception: errorName(error) });
        return settle(current);
      }
    }
  }
  await call.report(
    current instanceof Failure
      ? { strategy: 'early', error: errorName(current.error), lifetime: options.errors?.ttl }
      : { strategy: 'early' },
  );
  return settle(current);
};

/** `early` layers: stores results; entries live for the policy's fixed `ttl`. */
export const earlyDefinition: StrategyDefinition<EarlyStrategyOptions> = defineStrategy<EarlyStrategyOptions>({
  name: 'early',
  run: earlyStrategy,
  storesResult: true,
  traits: (options) => ({ ttl: fixedTtlOf(options) }),
});
