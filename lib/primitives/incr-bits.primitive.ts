import { Bitmap, bitmapBytes, readCounter, writeCounter } from './bitmap.js';
import { definePrimitive } from './primitive.js';
import { isWrongType, wrongType } from './wrong-type.js';

/** A counter of `size` bits moved by `by`, saturating at 0 and at its largest value (`OVERFLOW SAT`). */
function saturate(value: number, by: number, size: number): number {
  return Math.min(2 ** size - 1, Math.max(0, value + by));
}

/**
 * Adds `by` (negative too) to the unsigned counter of `size` bits (1 to 16) at each of `indexes` of the bitmap at
 * the key, saturating: a counter never goes above `2^size - 1` nor below 0 (Redis
 * `BITFIELD OVERFLOW SAT INCRBY u<size> #<index> <by>`). An index given twice is moved twice. Answers the new
 * values in the order of `indexes`. `ttl` (ms) applies only when this call creates the bitmap; an existing one
 * keeps its remaining TTL. A key holding a string is a bitmap of its bytes, as on Redis.
 * @example
 * ```ts
 * // A counting Bloom filter step: four 4-bit counters, created with a one-day TTL.
 * const counts = await cache.backend.run(incrBitsPrimitive, 'bloom:emails', [17, 301, 4096, 9], 4, 1, 86_400_000);
 * console.log(counts); // [1, 1, 1, 1]
 * ```
 */
export const incrBitsPrimitive = definePrimitive<
  [indexes: readonly number[], size: number, by: number, ttl: number | undefined],
  number[]
>({
  name: 'incrBits',
  // ARGV: size, by, ttl (0: none), then the indexes; the TTL only when the script created the key.
  lua: `
local created = redis.call('EXISTS', KEYS[1]) == 0
local size, by, out = 'u' .. ARGV[1], ARGV[2], {}
for from = 4, #ARGV, 500 do
  local ops = {'OVERFLOW', 'SAT'}
  for i = from, math.min(#ARGV, from + 499) do
    ops[#ops + 1] = 'INCRBY'; ops[#ops + 1] = size; ops[#ops + 1] = '#' .. ARGV[i]; ops[#ops + 1] = by
  end
  for _, v in ipairs(redis.call('BITFIELD', KEYS[1], unpack(ops))) do out[#out + 1] = v end
end
if created and #ARGV > 3 and tonumber(ARGV[3]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return out`,
  redisArgs: (indexes, size, by, ttl) => [size, by, ttl ?? 0, ...indexes],
  fromRedis: (reply) => (reply as unknown[]).map(Number),
  redisError: (error, key) => (isWrongType(error) ? wrongType('incrBits', key, 'a bitmap', error) : undefined),
  memory(entries, key, indexes, size, by, ttl) {
    if (indexes.length === 0) return [];
    const found = entries.get(key);
    let bytes = bitmapBytes('incrBits', key, found) ?? new Uint8Array(0);
    let last = 0;
    for (const index of indexes) if (index > last) last = index;
    const needed = Math.ceil(((last + 1) * size) / 8);
    if (needed > bytes.length) {
      const grown = new Uint8Array(needed);
      grown.set(bytes);
      bytes = grown;
    }
    const values = indexes.map((index) => {
      const value = saturate(readCounter(bytes, index, size), by, size);
      writeCounter(bytes, index, size, value);
      return value;
    });
    if (found instanceof Bitmap) {
      // Changed in place (or given the grown bytes): the entry keeps its TTL and its place.
      found.bytes = bytes;
    } else {
      // A new bitmap gets `ttl`; a string turned bitmap keeps the TTL it had.
      const left = found === undefined ? ttl : entries.ttlLeft(key);
      entries.set(key, new Bitmap(bytes), left !== undefined && Number.isFinite(left) ? Math.max(1, left) : undefined);
    }
    return values;
  },
  // A bitmap that never persists: each call starts from zero.
  off: (indexes, size, by) => indexes.map(() => saturate(0, by, size)),
});
