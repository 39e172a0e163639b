import { memberSet } from './member-set.js';
import { definePrimitive } from './primitive.js';
import { isWrongType, wrongType } from './wrong-type.js';

/**
 * Removes and answers up to `count` members of the set at the key, in no particular order (random on Redis, the
 * oldest first in memory); fewer when the set holds fewer, none when it is missing. A set left empty is removed.
 * @example
 * ```ts
 * await cache.backend.run(setAddPrimitive, 'jobs', ['a', 'b', 'c'], undefined);
 * console.log(await cache.backend.run(setPopPrimitive, 'jobs', 2)); // two of 'a', 'b', 'c'
 * ```
 */
export const setPopPrimitive = definePrimitive<[count: number], string[]>({
  name: 'setPop',
  // ARGV: count. SPOP with a count answers an array, empty for a missing key.
  lua: `
if tonumber(ARGV[1]) == 0 then return {} end
return redis.call('SPOP', KEYS[1], ARGV[1])`,
  redisArgs: (count) => [count],
  fromRedis: (reply) => (reply as unknown[]).map(String),
  redisError: (error, key) => (isWrongType(error) ? wrongType('setPop', key, 'a set', error) : undefined),
  memory(entries, key, count) {
    const set = memberSet('setPop', key, entries.get(key));
    if (!set) return [];
    const popped: string[] = [];
    for (const member of set.members) {
      if (popped.length >= count) break;
      popped.push(member);
    }
    for (const member of popped) set.members.delete(member);
    if (set.members.size === 0) entries.delete(key);
    return popped;
  },
  // A dropped removal: nothing popped.
  off: () => [],
});
