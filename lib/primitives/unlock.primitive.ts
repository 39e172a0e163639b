import { definePrimitive } from './primitive.js';

/**
 * Deletes the key only if it still holds `token` (a lock taken by {@link setLockPrimitive}).
 * @example
 * ```ts
 * // Releases the lock only if 'token-1' still holds it.
 * console.log(await cache.backend.run(unlockPrimitive, 'cashews:protect:reindex', 'token-1'));
 * ```
 */
export const unlockPrimitive = definePrimitive<[token: string], boolean>({
  name: 'unlock',
  lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
  redisArgs: (token) => [token],
  fromRedis: (reply) => reply === 1,
  memory(entries, key, token) {
    if (entries.get(key) !== token) return false;
    return entries.delete(key);
  },
  off: () => true,
});
