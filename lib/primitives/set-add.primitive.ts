import { MemberSet, memberSet } from './member-set.js';
import { definePrimitive } from './primitive.js';
import { isWrongType, wrongType } from './wrong-type.js';

/**
 * Adds `members` (strings, stored as given) to the set at the key and answers how many were not in it yet. With
 * `ttl` (ms), every call that adds or re-adds members sets the key's TTL to it (as cashews' `set_add`); without,
 * the key keeps the TTL it has (none for a new set). An empty list changes nothing. A Redis set.
 * @example
 * ```ts
 * const added = await cache.backend.run(setAddPrimitive, 'online', ['ada', 'grace'], 300_000);
 * console.log(added); // 2
 * ```
 */
export const setAddPrimitive = definePrimitive<[members: readonly string[], ttl: number | undefined], number>({
  name: 'setAdd',
  // ARGV: ttl (0: none), then the members, 1000 per SADD.
  lua: `
if #ARGV < 2 then return 0 end
local added = 0
for from = 2, #ARGV, 1000 do
  added = added + redis.call('SADD', KEYS[1], unpack(ARGV, from, math.min(#ARGV, from + 999)))
end
if tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return added`,
  redisArgs: (members, ttl) => [ttl ?? 0, ...members],
  fromRedis: (reply) => Number(reply),
  redisError: (error, key) => (isWrongType(error) ? wrongType('setAdd', key, 'a set', error) : undefined),
  memory(entries, key, members, ttl) {
    const found = memberSet('setAdd', key, entries.get(key));
    if (members.length === 0) return 0;
    const set = found ?? new MemberSet();
    const before = set.members.size;
    for (const member of members) set.members.add(member);
    if (found === undefined || ttl !== undefined) {
      const left = ttl ?? entries.ttlLeft(key);
      entries.set(key, set, left !== undefined && Number.isFinite(left) ? Math.max(1, left) : undefined);
    }
    return set.members.size - before;
  },
  // A dropped write: nothing was added.
  off: () => 0,
});
