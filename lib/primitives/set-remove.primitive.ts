import { memberSet } from './member-set.js';
import { definePrimitive } from './primitive.js';
import { isWrongType, wrongType } from './wrong-type.js';

/**
 * Removes `members` from the set at the key and answers how many were in it. A set left empty is removed, as Redis
 * removes it.
 * @example
 * ```ts
 * console.log(await cache.backend.run(setRemovePrimitive, 'online', ['ada', 'nobody'])); // 1
 * ```
 */
export const setRemovePrimitive = definePrimitive<[members: readonly string[]], number>({
  name: 'setRemove',
  // ARGV: the members, 1000 per SREM.
  lua: `
local removed = 0
for from = 1, #ARGV, 1000 do
  removed = removed + redis.call('SREM', KEYS[1], unpack(ARGV, from, math.min(#ARGV, from + 999)))
end
return removed`,
  redisArgs: (members) => [...members],
  fromRedis: (reply) => Number(reply),
  redisError: (error, key) => (isWrongType(error) ? wrongType('setRemove', key, 'a set', error) : undefined),
  memory(entries, key, members) {
    const set = memberSet('setRemove', key, entries.get(key));
    if (!set) return 0;
    let removed = 0;
    for (const member of members) if (set.members.delete(member)) removed++;
    if (set.members.size === 0) entries.delete(key);
    return removed;
  },
  // A dropped removal.
  off: () => 0,
});
