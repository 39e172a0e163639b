/** Answer of `CacheService.read` when the key holds nothing usable (distinct from a stored `undefined`). */
export const MISS: unique symbol = Symbol('cashews.miss');
export type Miss = typeof MISS;
