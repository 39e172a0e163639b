import { CacheValueError } from '../errors.js';
import { definePrimitive } from './primitive.js';

const INTEGER = /^-?\d{1,16}$/;

function notAnInteger(key: string, cause?: unknown): CacheValueError {
  return new CacheValueError(`Cannot increment "${key}": the stored value is not an integer.`, { cause });
}

/**
 * The counter a stored value holds (an integer, or an integer written as a string), as every backend reads it;
 * @throws CacheValueError for anything else.
 */
export function counterValue(key: string, value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && INTEGER.test(value)) return Number(value);
  throw notAnInteger(key);
}

/**
 * Atomically adds `by` to the integer at the key and answers the new value; `ttl` (ms) applies only when this
 * call creates the counter, an existing one keeps its remaining TTL. A stored value that is not an integer is
 * left unchanged and the call throws {@link CacheValueError}, on every backend.
 * @example
 * ```ts
 * const views = await cache.backend.run(incrPrimitive, 'views:42', 1, 86_400_000); // 1, then 2, …
 * console.log(views);
 * ```
 */
export const incrPrimitive = definePrimitive<[by: number, ttl: number | undefined], number>({
  name: 'incr',
  lua: `
local created = redis.call('EXISTS', KEYS[1]) == 0
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if created and tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return value`,
  redisArgs: (by, ttl) => [by, ttl ?? 0],
  fromRedis: (reply) => Number(reply),
  redisError: (error, key) =>
    /not an integer|out of range/i.test(error.message) ? notAnInteger(key, error) : undefined,
  memory(entries, key, by, ttl) {
    const current = entries.get(key);
    if (current === undefined) {
      entries.set(key, by, ttl);
      return by;
    }
    const base = counterValue(key, current);
    // Keep the remaining TTL: incrementing must not extend or clear the expiry.
    const left = entries.ttlLeft(key);
    entries.set(key, base + by, left !== undefined && Number.isFinite(left) ? Math.max(1, left) : undefined);
    return base + by;
  },
  // A counter that never persists: each call starts from zero.
  off: (by) => by,
});
