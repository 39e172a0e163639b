/**
 * Answer of `CacheService.read` when the key holds nothing usable (distinct from a stored `undefined`).
 * @example
 * ```ts
 * const value = await cache.read('product:42');
 * if (value === MISS) console.log('not cached');
 * ```
 */
export const MISS: unique symbol = Symbol('cashews.miss');
/** The type of {@link MISS}: `if (value === MISS)` narrows to it. */
export type Miss = typeof MISS;
