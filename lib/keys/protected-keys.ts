import { describeArgument } from '../config/describe-argument.js';
import { CacheKeyError } from '../errors.js';
import { TAG_INDEX_PREFIX, TAGS_OF_PREFIX } from '../tags/tag-keys.js';

/**
 * Protection state (rate-limit windows, circuits, performance-degradation markers, locks) lives under one
 * reserved prefix, built only here, so nothing that works on cache keys can reach it:
 * - `CacheService` refuses keys and patterns that start with it ({@link assertCacheKey}); a key template
 *   cannot render it from arguments either, since placeholders escape `:`;
 * - every backend's `scan` (and so `deleteMatch`, `getMatch` and `@Invalidate` patterns) skips it, and tag storage
 *   with it, unless the pattern itself names the namespace ({@link scanSkipsProtected}), which only the explicit
 *   reset API does;
 * - a command hook that rewrites keys cannot lead a command there either: the keys are checked again after the
 *   hooks (lib/pipeline/reserved-keys.gate.ts);
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

/**
 * Storage no cache command may name: protection state, and the tag indexes and tag lists (`cashews:tag:…`,
 * `cashews:tags-of:…`), whose overwrite by a plain value would make `deleteTags` fail and leave tagged entries
 * in place. Each prefix with what it holds, for the error.
 */
const RESERVED: ReadonlyArray<readonly [prefix: string, holds: string]> = [
  [PROTECTED_PREFIX, 'rate-limit, circuit, performance and lock state'],
  [TAG_INDEX_PREFIX, 'tag indexes'],
  [TAGS_OF_PREFIX, 'the tag lists of tagged keys'],
];

/** The reserved prefix `key` starts with, if any (see {@link RESERVED}). */
function reservedPrefixOf(key: string): (typeof RESERVED)[number] | undefined {
  for (const entry of RESERVED) if (key.startsWith(entry[0])) return entry;
  return undefined;
}

/** Whether `key` names reserved storage (protection state or tag storage): no cache command may reach it. */
export function isReservedKey(key: string): boolean {
  // Every reserved prefix starts with "c": on every read, the first character decides for almost every key.
  return key.charCodeAt(0) === FIRST && reservedPrefixOf(key) !== undefined;
}

/** The key a prefix route is chosen by: a state key routes like the cache key it protects. */
export function routingKey(key: string): string {
  return isProtectedKey(key) ? key.slice(PROTECTED_PREFIX.length) : key;
}

/** Whether a backend scan for `pattern` must leave protection state out (every pattern not naming its prefix). */
export function scanSkipsProtected(pattern: string): boolean {
  return !isProtectedKey(pattern);
}

/**
 * Refuses a cache key or pattern that is not a string or would reach reserved storage (protection state, tag
 * storage; `where` names the command).
 */
export function assertCacheKey(key: string, where: string): void {
  if (typeof key !== 'string') throw keyTypeError(key, where);
  if (isReservedKey(key)) throw reservedKeyError(key, where);
}

/**
 * Refuses a key that is not a string (JavaScript callers, or TypeScript behind an `any`): it would otherwise fail deep
 * in the library with a `TypeError`, or be turned into a string that another key already is (`5` and `'5'`).
 */
export function assertKeyType(key: unknown, where: string): void {
  if (typeof key !== 'string') throw keyTypeError(key, where);
}

/** The error {@link assertKeyType} throws, for callers that answer a rejected promise instead. */
export function keyTypeError(key: unknown, where: string): CacheKeyError {
  return new CacheKeyError(`${where}(): the key must be a string (got ${describeArgument(key)}).`);
}

/**
 * Refuses a key list that is not an array, then each key as {@link assertCacheKey}: a string given for the list
 * would be read as its characters, one key each (`deleteMany('user')` deleting the keys `u`, `s`, `e` and `r`).
 */
export function assertCacheKeys(keys: readonly string[], where: string): void {
  if (!Array.isArray(keys)) {
    throw new CacheKeyError(
      `${where}(): keys must be an array of strings, such as ['a', 'b'] (got ${describeArgument(keys)}).`,
    );
  }
  for (const key of keys) assertCacheKey(key, where);
}

/** The error {@link assertCacheKey} throws, for callers that answer a rejected promise instead. */
export function reservedKeyError(key: string, where: string): CacheKeyError {
  const [prefix, holds] = reservedPrefixOf(key) ?? RESERVED[0];
  const reset =
    prefix === PROTECTED_PREFIX
      ? 'Use another key, or cache.resetProtection(pattern) to reset protection state.'
      : 'Use another key; cache.deleteTags(...tags) removes tagged entries.';
  return new CacheKeyError(
    `${where}: keys and patterns starting with "${prefix}" are reserved for ${holds} (got "${key}"). ${reset}`,
  );
}
