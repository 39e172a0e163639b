import { MISS } from '../miss.js';
import type { ReadExpiry, StrategyCache } from '../strategies/strategy.js';
import type { RequestDirectives } from './request-directives.js';

type Cache = StrategyCache & { getExpire(key: string): Promise<number> };

/** What a directed cache answers for this property: its directives and the cache it wraps (see {@link directionOf}). */
const DIRECTION = Symbol('cashews.direction');

/** The directives a cache from {@link directedCache} applies, and the cache under them. */
export interface Direction {
  readonly directives: RequestDirectives;
  /** The cache the directives wrap: bookkeeping that no request may change (`@Adaptive`'s fleet counters) uses it. */
  readonly undirected: StrategyCache;
}

/** The directives `cache` applies, with the cache they wrap; `undefined` for a cache no request directs. */
export function directionOf(cache: object): Direction | undefined {
  return (cache as { readonly [DIRECTION]?: Direction })[DIRECTION];
}

/**
 * The cache as one decorated call sees it under request directives: reads bypassed (`no-cache`,
 * `no-store`), reads of entries older than `max-age` turned into misses, writes dropped (`no-store`), or
 * reads deleting their key (`Clear-Site-Data: "cache"`). Everything else goes to the cache untouched.
 *
 * @param ttl the layer's fixed TTL in ms, from which an entry's age is derived (`ttl - remaining`);
 *        without one, `max-age` cannot be checked and such entries read as misses.
 */
export function directedCache(cache: Cache, directives: RequestDirectives, ttl: number | undefined): Cache {
  const read = async (key: string, expiry?: ReadExpiry): Promise<unknown> => {
    if (directives.clearSiteData) {
      await cache.delete(key);
      return MISS;
    }
    if (directives.noCache || directives.noStore) return MISS;
    if (directives.maxAge === undefined) return cache.read(key, expiry);
    if (ttl === undefined) {
      // Without a fixed ttl no age is known: any entry is too old for `max-age`.
      await cache.read(key);
      return MISS;
    }
    // The entry's age needs its remaining TTL: asked with the value when the cache can (one round trip on Redis).
    let left: number | undefined;
    const value = await cache.read(key, {
      wantsExpire: true,
      noteExpire: (read, ms) => {
        left = ms;
        expiry?.noteExpire?.(read, ms);
      },
    });
    if (value === MISS) return MISS;
    left ??= await cache.getExpire(key);
    return left >= 0 && ttl - left <= directives.maxAge ? value : MISS;
  };
  const set: Cache['set'] = (key, value, options) =>
    directives.noStore ? Promise.resolve(false) : cache.set(key, value, options);
  const direction: Direction = { directives, undirected: cache };
  return new Proxy(cache, {
    get(target, prop) {
      if (prop === DIRECTION) return direction;
      if (prop === 'read') return read;
      // Every read goes through the directives above.
      if (prop === 'readNow') return undefined;
      if (prop === 'set') return set;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
