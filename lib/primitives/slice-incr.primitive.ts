import { definePrimitive } from './primitive.js';
import { isWrongType, wrongType } from './wrong-type.js';

/** Memory state of a sliding counter: the score (`end`) of every increment it holds, in arrival order. */
export class SliceLog {
  scores: number[] = [];
}

/** Makes the sorted-set members of two increments with the same `end`, from any process, distinct. */
let sequence = 0;

/**
 * A sliding counter on one key (cashews' `slice_incr`): drops the entries older than `start`, counts those from
 * `start` to `end` (both included), and, only when that count is under `max`, adds one entry at `end` (and sets
 * the key's TTL to `ttl` ms when given). Answers the count after the call: `max` or less when this call was
 * counted, `max` (or more, when older calls left more) when it was not. Entries after `end` are kept but not
 * counted. Each increment is its own entry, even two with the same `end`. A sorted set on Redis, which removes a
 * sorted set left empty: a call whose `start` drops every entry starts a new key, without the former TTL.
 * @example
 * ```ts
 * // At most 10 calls in any minute.
 * const now = Date.now();
 * const count = await cache.backend.run(sliceIncrPrimitive, 'calls:ada', now - 60_000, now, 10, 60_000);
 * console.log(count); // 1, 2, … 10, then 10
 * ```
 */
export const sliceIncrPrimitive = definePrimitive<
  [start: number, end: number, max: number, ttl: number | undefined],
  number
>({
  name: 'sliceIncr',
  // ARGV: start, end, max, ttl (0: none), a unique member suffix.
  lua: `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
local count = redis.call('ZCOUNT', KEYS[1], ARGV[1], ARGV[2])
if count < tonumber(ARGV[3]) then
  count = count + 1
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[2] .. ':' .. ARGV[5])
  if tonumber(ARGV[4]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
end
return count`,
  redisArgs: (start, end, max, ttl) => [
    start,
    end,
    max,
    ttl ?? 0,
    `${process.pid}:${++sequence}:${Math.random().toString(36).slice(2, 8)}`,
  ],
  fromRedis: (reply) => Number(reply),
  redisError: (error, key) =>
    isWrongType(error) ? wrongType('sliceIncr', key, 'a sliding counter', error) : undefined,
  memory(entries, key, start, end, max, ttl) {
    const found = entries.get(key);
    if (found !== undefined && !(found instanceof SliceLog)) throw wrongType('sliceIncr', key, 'a sliding counter');
    const log = found ?? new SliceLog();
    log.scores = log.scores.filter((score) => score >= start);
    // Redis removes a sorted set left empty, and its TTL with it: what follows starts a new key.
    const kept = found !== undefined && log.scores.length > 0;
    if (found && !kept) entries.delete(key);
    let count = 0;
    for (const score of log.scores) if (score <= end) count++;
    if (count < max) {
      count++;
      log.scores.push(end);
      const left = ttl ?? (kept ? entries.ttlLeft(key) : undefined);
      entries.set(key, log, left !== undefined && Number.isFinite(left) ? Math.max(1, left) : undefined);
    }
    return count;
  },
  // A counter that never persists: each call is the first.
  off: () => 1,
});
