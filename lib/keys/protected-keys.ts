import { CacheKeyError } from '../errors.js';

/**
 * Protection state (rate-limit windows, circuits, performance-degradation markers, locks) lives under one
 * reserved prefix, built only here, so nothing that works on cache keys can reach it:
 * - `CacheService` refuses keys and patterns that start with it ({@link assertCacheKey}); a key template
 *   cannot render it from arguments either, since placeholders escape `:`;
 * - every backend's `scan` (and so `deleteMatch`, `getMatch` and `@Invalidate` patterns) skips it unless the
 *   pattern itself names the namespace ({@link scanSkipsProtected}), which only the explicit reset API does;
 * - tag indexes only ever hold keys written through `set`, which refuses it.
 *
 * No `{` or `}` in the prefix: on Redis Cluster a hash tag in the cache key still decides the slot of its
 * state. Prefix routing routes a state key by the cache key it protects ({@link routingKey}).
 */
export const PROTECTED_PREFIX = 'cashews:protect:';

/** Where the protection state named `name` (e.g. `ProductsController:list:10.0.0.1:rate`) is stored. */
export function protectedKey(name: string): string {
  return PROTECTED_PREFIX + name;
}

const FIRST = PROTECTED_PREFIX.charCodeAt(0);

/** On every read: the first character decides for almost every key without comparing the prefix. */
export function isProtectedKey(key: string): boolean {
  return key.charCodeAt(0) === FIRST && key.startsWith(PROTECTED_PREFIX);
}

/** The key a prefix route is chosen by: a state key routes like the cache key it protects. */
export function routingKey(key: string): string {
  return isProtectedKey(key) ? key.slice(PROTECTED_PREFIX.length) : key;
}

/** Whether a backend scan for `pattern` must leave protection state out (every pattern not naming its prefix). */
export function scanSkipsProtected(pattern: string): boolean {
  return !isProtectedKey(pattern);
}

/** Refuses a cache key or pattern that would reach protection state (`where` names the command). */
export function assertCacheKey(key: string, where: string): void {
  if (isProtectedKey(key)) throw reservedKeyError(key, where);
}

/** The error {@link assertCacheKey} throws, for callers that answer a rejected promise instead. */
export function reservedKeyError(key: string, where: string): CacheKeyError {
  return new CacheKeyError(
    `${where}: keys and patterns starting with "${PROTECTED_PREFIX}" are reserved for rate-limit, circuit, ` +
      `performance and lock state (got "${key}"). Use another key, or cache.resetProtection(pattern) to reset ` +
      `protection state.`,
  );
}
