import { MISS } from '../miss.js';
import type { StrategyCache } from '../strategies/strategy.js';
import type { RequestDirectives } from './request-directives.js';

type Cache = StrategyCache & { getExpire(key: string): Promise<number> };

/**
 * The cache as one decorated call sees it under request directives: reads bypassed (`no-cache`,
 * `no-store`), reads of entries older than `max-age` turned into misses, writes dropped (`no-store`), or
 * reads deleting their key (`Clear-Site-Data: "cache"`). Everything else goes to the cache untouched.
 *
 * @param ttl the layer's fixed TTL in ms, from which an entry's age is derived (`ttl - remaining`);
 *        without one, `max-age` cannot be checked and such entries read as misses.
 */
export function directedCache(cache: Cache, directives: RequestDirectives, ttl: number | undefined): Cache {
  const read = async (key: string): Promise<unknown> => {
    if (directives.clearSiteData) {
      await cache.delete(key);
      return MISS;
    }
    if (directives.noCache || directives.noStore) return MISS;
    const value = await cache.read(key);
    if (value === MISS || directives.maxAge === undefined) return value;
    if (ttl === undefined) return MISS;
    const left = await cache.getExpire(key);
    return left >= 0 && ttl - left <= directives.maxAge ? value : MISS;
  };
  const set: Cache['set'] = (key, value, options) =>
    directives.noStore ? Promise.resolve(false) : cache.set(key, value, options);
  return new Proxy(cache, {
    get(target, prop) {
      if (prop === 'read') return read;
      if (prop === 'set') return set;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
