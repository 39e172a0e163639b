import { CacheValueError } from '../errors.js';
import { Bitmap } from './bitmap.js';
import { MemberSet } from './member-set.js';
import { definePrimitive } from './primitive.js';
import { SliceLog } from './slice-incr.primitive.js';
import { isWrongType } from './wrong-type.js';

const decoder = new TextDecoder();

function notAString(key: string, what: string, cause?: unknown): CacheValueError {
  return new CacheValueError(
    `getRaw("${key}"): the key holds ${what}, not a string; getRaw answers only values stored as strings.`,
    { cause },
  );
}

/**
 * The string stored at the key, exactly as the backend holds it: no codec, no signature check (`undefined` when
 * missing). A counter answers its decimal string and a bitmap its bytes read as UTF-8, as Redis would. In memory,
 * where the clone codec (`mem://` without `secret`) stores copies of JS values rather than strings, any other value
 * is refused.
 * @throws CacheValueError when the key holds no string: a set or a sliding counter (on Redis, any type but a
 * string), or in memory a JS value.
 * @example
 * ```ts
 * await cache.set('greeting', 'hello');
 * console.log(await cache.backend.run(getRawPrimitive, 'greeting')); // 'c1:p"hello"' on Redis
 * ```
 */
export const getRawPrimitive = definePrimitive<[], string | undefined>({
  name: 'getRaw',
  lua: `return redis.call('GET', KEYS[1])`,
  redisArgs: () => [],
  fromRedis: (reply) => (reply === null || reply === undefined ? undefined : String(reply)),
  redisError: (error, key) => (isWrongType(error) ? notAString(key, 'another type', error) : undefined),
  memory(entries, key) {
    const raw = entries.get(key);
    if (raw === undefined || typeof raw === 'string') return raw;
    if (typeof raw === 'number' && Number.isSafeInteger(raw)) return String(raw);
    if (raw instanceof Bitmap) return decoder.decode(raw.bytes);
    if (raw instanceof MemberSet) throw notAString(key, 'a set');
    if (raw instanceof SliceLog) throw notAString(key, 'a sliding counter');
    throw notAString(key, 'a JS value (memory without a secret stores copies of values, not strings)');
  },
  // What a missing key reads.
  off: () => undefined,
});
