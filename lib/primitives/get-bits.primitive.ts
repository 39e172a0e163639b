import { bitmapBytes, readCounter } from './bitmap.js';
import { definePrimitive } from './primitive.js';
import { isWrongType, wrongType } from './wrong-type.js';

const EMPTY = new Uint8Array(0);

/**
 * Reads the unsigned counters of `size` bits (1 to 16) at each of `indexes` of the bitmap at the key (Redis
 * `BITFIELD GET u<size> #<index>`): 0 for a missing key and past the end of the bitmap. Writes nothing.
 * @example
 * ```ts
 * await cache.backend.run(incrBitsPrimitive, 'seen', [3, 8], 4, 1, undefined);
 * console.log(await cache.backend.run(getBitsPrimitive, 'seen', [3, 8, 9], 4)); // [1, 1, 0]
 * ```
 */
export const getBitsPrimitive = definePrimitive<[indexes: readonly number[], size: number], number[]>({
  name: 'getBits',
  // ARGV: size, then the indexes. One BITFIELD per 500 indexes keeps unpack() below Lua's stack limit.
  lua: `
local size, out = 'u' .. ARGV[1], {}
for from = 2, #ARGV, 500 do
  local ops = {}
  for i = from, math.min(#ARGV, from + 499) do
    ops[#ops + 1] = 'GET'; ops[#ops + 1] = size; ops[#ops + 1] = '#' .. ARGV[i]
  end
  for _, v in ipairs(redis.call('BITFIELD', KEYS[1], unpack(ops))) do out[#out + 1] = v end
end
return out`,
  redisArgs: (indexes, size) => [size, ...indexes],
  fromRedis: (reply) => (reply as unknown[]).map(Number),
  redisError: (error, key) => (isWrongType(error) ? wrongType('getBits', key, 'a bitmap', error) : undefined),
  memory(entries, key, indexes, size) {
    const bytes = bitmapBytes('getBits', key, entries.get(key)) ?? EMPTY;
    return indexes.map((index) => readCounter(bytes, index, size));
  },
  // What a missing bitmap reads.
  off: (indexes) => indexes.map(() => 0),
});
