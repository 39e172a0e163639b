import { MISS } from '../miss.js';
import { asEnvelope, asWrittenEnvelope, type WrittenEnvelope } from './envelope.js';
import type { ReadExpiry, StrategyCache } from './strategy.js';

/** The TTL an entry is read under: the decision's, which may have changed since the entry was written. */
export interface AgedTerms {
  /** TTL (ms): an entry written longer ago is a miss. */
  readonly ttl: number;
  /**
   * Age (ms) after which an `@Early` envelope inside the entry is due for refresh (the decision's `refreshAfter`), when
   * it comes sooner than the one it was written with.
   */
  readonly refreshAfter?: number;
}

/**
 * A call whose entry was read already (`@Adaptive`'s hit path, which found no fresh entry): the first read of that
 * key through the aged cache takes it instead of asking the backend again.
 */
export interface PrimedRead {
  takeRead?(key: string): { readonly raw: unknown } | undefined;
}

/** How far ahead of this process's clock another process's clock may be (ms): an entry written later is a miss. */
export const CLOCK_SKEW = 1000;

/** A stored entry under {@link AgedTerms}: fresh (its value, and what is left of the TTL) or a miss. */
export function freshEntry(
  stored: unknown,
  ttl: number,
  now: number,
): { readonly entry: WrittenEnvelope; readonly left: number } | typeof MISS {
  const entry = asWrittenEnvelope(stored);
  // Times that are not finite numbers (a foreign or damaged value) never make an entry fresh.
  if (entry === MISS || !Number.isFinite(entry.w) || !Number.isFinite(entry.at)) return MISS;
  // An entry from the near future (clocks of two processes apart) is not older than the TTL: it is served. One
  // written further ahead than clocks drift would stay fresh for that long: a miss.
  if (entry.w > now + CLOCK_SKEW) return MISS;
  const left = entry.w + ttl - now;
  return left > 0 ? { entry, left: Math.min(left, ttl) } : MISS;
}

/** The stored form of `value` written now, under `ttl`. */
export function agedEnvelope(value: unknown, ttl: number, now: number): WrittenEnvelope {
  return { v: value, at: now + ttl, w: now };
}

/**
 * The cache as the strategies `@Adaptive` delegates to (`@Cache`, `@Early`) see it: every value they store is kept in
 * an envelope with its write time, and a read answers a miss for an entry older than the current TTL. The decision
 * may have lowered the TTL since an entry was written under a longer one: that entry is not served past the new TTL,
 * and a hit's age is its real age (what is left of the TTL is handed to `expiry.noteExpire`, not asked of the
 * backend, whose expiry is still the old TTL's). Everything else goes to `cache` untouched.
 */
export function agedCache(cache: StrategyCache, terms: AgedTerms): StrategyCache {
  const { ttl, refreshAfter } = terms;
  const read = async (key: string, expiry?: ReadExpiry & PrimedRead): Promise<unknown> => {
    const primed = expiry?.takeRead?.(key);
    const raw = primed ? primed.raw : await cache.read(key);
    const now = Date.now();
    const fresh = freshEntry(raw, ttl, now);
    if (fresh === MISS) return MISS;
    expiry?.noteExpire?.(key, fresh.left);
    const { entry } = fresh;
    if (refreshAfter === undefined) return entry.v;
    // An early envelope: due for refresh at the sooner of the age it was written with and the decision's.
    const early = asEnvelope(entry.v);
    if (early === MISS) return MISS;
    // An envelope whose refresh time is not a finite number is due at once (NaN would never be).
    const due = Number.isFinite(early.at) ? Math.min(early.at, entry.w + refreshAfter) : now;
    return { v: early.v, at: due };
  };
  const set: StrategyCache['set'] = (key, value, options) =>
    cache.set(key, agedEnvelope(value, ttl, Date.now()), options);
  return new Proxy(cache, {
    get(target, prop) {
      if (prop === 'read') return read;
      if (prop === 'set') return set;
      // A synchronous read would answer the stored envelope past the TTL check: every read goes through `read`.
      if (prop === 'readNow') return undefined;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
