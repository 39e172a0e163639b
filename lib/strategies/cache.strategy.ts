import { MISS, PENDING } from '../miss.js';
import { Failure, fromStored, settle } from './cached-errors.js';
import { asEnvelope } from './envelope.js';
import { computeOnce, type StampedeOptions } from './stampede.js';
import { compute, storeOptions, storeResult, storeWhenRecorded, type StorePolicy } from './store-policy.js';
import { errorName, type Next, type Strategy, type StrategyCache, type StrategyCall } from './strategy.js';
import { defineStrategy, fixedTtlOf, type StrategyDefinition } from './layer.js';
import { withinTimeouts, type Timeouts } from './timeouts.js';

export interface CacheStrategyOptions extends StorePolicy, StampedeOptions {
  /** Controllers: the HTTP layer sends an ETag and answers 304 (read there, not by the strategy). */
  etag?: boolean;
  /** `staleTtl`, `timeout`, `hardTimeout`; unset when none is given (the plain, fastest path). */
  timeouts?: Timeouts;
}

/**
 * Serve the stored result until it expires; on a miss run the method once and store its result. A stored error
 * (`cacheErrors`) is re-thrown the same way.
 */
export const cacheStrategy: Strategy<CacheStrategyOptions> = (call, options, cache, next) =>
  serveRead(call, options, cache, next, cache.readNow ? cache.readNow(call.key) : PENDING);

/**
 * {@link cacheStrategy} once the cache was asked without waiting: `now` is the value, `MISS`, or `PENDING` (read it).
 * The executor comes here directly when it made that read itself (see `StrategyDefinition.fromRead`).
 */
function serveRead(
  call: StrategyCall,
  options: CacheStrategyOptions,
  cache: StrategyCache,
  next: Next,
  now: unknown,
): Promise<unknown> {
  // A value known without waiting (memory) is served without a promise hop of its own: the caller's await is the one.
  if (now === PENDING) return readThenServe(call, options, cache, next);
  const stored = fromStored(options.errors, now);
  if (stored === MISS) return computeAndServe(call, options, cache, next);
  try {
    const reported = report(call, options, stored);
    return reported ? reported.then(() => settle(stored)) : Promise.resolve(settle(stored));
  } catch (error) {
    return Promise.reject(error);
  }
}

const HIT = Object.freeze({ strategy: 'cache' });

function report(call: StrategyCall, options: CacheStrategyOptions, stored: unknown): Promise<void> | void {
  return call.report(
    stored instanceof Failure
      ? { strategy: 'cache', error: errorName(stored.error), lifetime: options.errors?.ttl }
      : HIT,
  );
}

/**
 * A read that has to wait (Redis): the hit is served in the read's own continuation, not through an `async` frame
 * of its own (one promise and one microtask hop less per Redis hit).
 */
function readThenServe(
  call: StrategyCall,
  options: CacheStrategyOptions,
  cache: StrategyCache,
  next: Next,
): Promise<unknown> {
  let read: Promise<unknown>;
  try {
    read = cache.read(call.key, call);
  } catch (error) {
    return Promise.reject(error);
  }
  return read.then((raw) => {
    const stored = fromStored(options.errors, raw);
    if (stored === MISS) return computeAndServe(call, options, cache, next);
    const reported = report(call, options, stored);
    return reported ? reported.then(() => settle(stored)) : settle(stored);
  });
}

async function computeAndServe(
  call: StrategyCall,
  options: CacheStrategyOptions,
  cache: StrategyCache,
  next: Next,
): Promise<unknown> {
  const answer = await computeOnce(
    call,
    cache,
    options,
    async () => fromStored(options.errors, await cache.read(call.key)),
    async () => {
      const computed = await compute(call, options, next);
      const save = (value: unknown, ttl: number) =>
        storeResult(call, cache, call.key, value, storeOptions(options, call, ttl));
      if (computed.store) await save(computed.value, computed.ttl);
      storeWhenRecorded(call, computed, save);
      return computed.answer;
    },
  );
  return settle(answer);
}

/** A stored value read by {@link timedCache}: fresh (served as a hit) or past its ttl (a stale stand-in). */
interface Read {
  fresh: unknown;
  stale: unknown;
  /** What is left of a fresh envelope's ttl (ms). */
  left?: number;
  /** How long ago a stale envelope's ttl ended (ms). */
  overdue?: number;
}

/**
 * `@Cache` with timeouts. With `staleTtl` an entry is stored as an envelope `{ v, at }` (`at`: end of its ttl) for
 * `ttl + staleTtl`, so that a value past its ttl is still there to answer a slow recompute after `timeout`.
 * A stored error (`cacheErrors`) is never a stale stand-in.
 */
async function timedCache(
  call: StrategyCall,
  options: CacheStrategyOptions,
  timeouts: Timeouts,
  cache: StrategyCache,
  next: Next,
): Promise<unknown> {
  const staleTtl = timeouts.staleTtl;
  const lifetime = (ttl: number) => ttl + (staleTtl ?? 0);
  const read = async (): Promise<Read> => {
    // With staleTtl the envelope tells what is left of the ttl: the backend's expiry is not asked with the value.
    const raw = await cache.read(call.key, staleTtl === undefined ? call : undefined);
    if (staleTtl === undefined) return { fresh: fromStored(options.errors, raw), stale: MISS };
    const entry = asEnvelope(raw);
    const value = entry === MISS ? MISS : fromStored(options.errors, entry.v);
    if (entry === MISS || value === MISS) return { fresh: MISS, stale: MISS };
    const left = entry.at - Date.now();
    if (left > 0) return { fresh: value, stale: MISS, left };
    return { fresh: MISS, stale: value instanceof Failure ? MISS : value, overdue: -left };
  };
  const { fresh, stale, left, overdue } = await read();
  if (fresh !== MISS) {
    // With staleTtl the entry outlives its ttl in the backend: what is left of the ttl is known from the envelope.
    const remaining = left === undefined ? {} : { remaining: left };
    await call.report(
      fresh instanceof Failure
        ? { strategy: 'cache', error: errorName(fresh.error), lifetime: options.errors?.ttl, ...remaining }
        : { strategy: 'cache', ...remaining },
    );
    return settle(fresh);
  }
  const work = computeOnce(
    call,
    cache,
    options,
    async () => (await read()).fresh,
    async () => {
      const computed = await compute(call, options, next);
      const save = (value: unknown, ttl: number) =>
        storeResult(
          call,
          cache,
          call.key,
          staleTtl === undefined ? value : { v: value, at: Date.now() + ttl },
          storeOptions(options, call, lifetime(ttl)),
        );
      if (computed.store) await save(computed.value, computed.ttl);
      storeWhenRecorded(call, computed, save);
      return computed.answer;
    },
  );
  // A stale answer is reported as expired: nothing left of its ttl, and its age past the ttl when the ttl is fixed.
  const fixed = fixedTtlOf(options);
  const staleHit = { remaining: 0, ...(fixed === undefined ? {} : { lifetime: fixed + (overdue ?? 0) }) };
  return settle(await withinTimeouts(call, timeouts, work, stale, staleHit));
}

/**
 * `@Cache` with `staleTtl`/`timeout`/`hardTimeout`: a definition of its own, chosen at decoration, so that the plain
 * `@Cache` hit path carries no branch for them.
 */
export const timedCacheStrategy: Strategy<CacheStrategyOptions> = (call, options, cache, next) =>
  timedCache(call, options, options.timeouts ?? {}, cache, next);

/** `cache` layers with timeouts: as {@link cacheDefinition}, run by {@link timedCacheStrategy}. */
export const timedCacheDefinition: StrategyDefinition<CacheStrategyOptions> = defineStrategy<CacheStrategyOptions>({
  name: 'cache',
  run: timedCacheStrategy,
  storesResult: true,
  traits: (options) => ({ ttl: fixedTtlOf(options), etag: options.etag === true }),
});

/** `cache` layers: stores results; entries live for the policy's fixed `ttl`. */
export const cacheDefinition: StrategyDefinition<CacheStrategyOptions> = defineStrategy<CacheStrategyOptions>({
  name: 'cache',
  run: cacheStrategy,
  storesResult: true,
  traits: (options) => ({ ttl: fixedTtlOf(options), etag: options.etag === true }),
  fromRead: serveRead,
});
