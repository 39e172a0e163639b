import { Bitmap } from './bitmap.js';
import { MemberSet } from './member-set.js';
import { definePrimitive } from './primitive.js';
import { SliceLog } from './slice-incr.primitive.js';

const encoder = new TextEncoder();

/**
 * The memory estimate: the bytes of the value's content, without the engine's own overhead (object headers,
 * hidden classes, the LRU entry). Strings count their UTF-8 bytes (object keys included), numbers and dates 8,
 * booleans 1, binary data its byte length, containers the sum of what they hold; a value held twice counts once.
 */
function estimate(value: unknown, seen: Set<object>): number {
  switch (typeof value) {
    case 'string':
      return encoder.encode(value).length;
    case 'number':
      return 8;
    case 'bigint':
      return Math.ceil(value.toString(16).length / 2);
    case 'boolean':
      return 1;
    case 'object':
      break;
    default:
      return 0;
  }
  if (value === null || seen.has(value)) return 0;
  seen.add(value);
  if (value instanceof Bitmap) return value.bytes.length;
  if (value instanceof MemberSet) return estimate([...value.members], seen);
  if (value instanceof SliceLog) return 8 * value.scores.length;
  if (value instanceof Date) return 8;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value.byteLength;
  let total = 0;
  if (value instanceof Map) for (const [k, v] of value) total += estimate(k, seen) + estimate(v, seen);
  else if (value instanceof Set || Array.isArray(value)) for (const v of value) total += estimate(v, seen);
  else for (const [k, v] of Object.entries(value)) total += encoder.encode(k).length + estimate(v, seen);
  return total;
}

/**
 * How many bytes the value at the key takes as stored; -1 when the key is missing. On Redis, `MEMORY USAGE`: the
 * server's own figure for the key, its name, value and allocator overhead included (sampled for large sets and
 * sorted sets), so a short string weighs some 50 bytes. In memory, an estimate of the value's content (see above):
 * a string's UTF-8 bytes, a bitmap's bytes, the sum over a JS value's fields.
 * @example
 * ```ts
 * await cache.set('page:1', { title: 'Home', blocks: [] });
 * console.log(await cache.backend.run(getSizePrimitive, 'page:1')); // e.g. 64 on Redis
 * ```
 */
export const getSizePrimitive = definePrimitive<[], number>({
  name: 'getSize',
  lua: `
local bytes = redis.call('MEMORY', 'USAGE', KEYS[1])
if not bytes then return -1 end
return bytes`,
  redisArgs: () => [],
  fromRedis: (reply) => Number(reply),
  memory(entries, key) {
    const raw = entries.get(key);
    return raw === undefined ? -1 : estimate(raw, new Set());
  },
  // What a missing key answers.
  off: () => -1,
});
