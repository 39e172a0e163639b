import { definePrimitive } from './primitive.js';

/**
 * Creates the key holding `token` for `ttl` ms only if it does not exist; answers whether it did.
 * @example
 * ```ts
 * const taken = await cache.backend.run(setLockPrimitive, 'cashews:protect:reindex', 'token-1', 30_000);
 * if (taken) await cache.backend.run(unlockPrimitive, 'cashews:protect:reindex', 'token-1');
 * ```
 */
export const setLockPrimitive = definePrimitive<[token: string, ttl: number], boolean>({
  name: 'setLock',
  // SET NX PX in a script rather than as a plain command: every primitive runs through one entry point.
  lua: `
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
return 0`,
  redisArgs: (token, ttl) => [token, ttl],
  fromRedis: (reply) => reply === 1,
  memory(entries, key, token, ttl) {
    if (entries.get(key) !== undefined) return false;
    entries.set(key, token, ttl);
    return true;
  },
  // Granted without being taken, so `@Locked` methods run rather than wait forever.
  off: () => true,
});
