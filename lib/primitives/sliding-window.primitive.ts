import type { WindowState } from '../backends/protect-types.js';
import { definePrimitive } from './primitive.js';

/** Memory state of a window: the times of the calls it allowed, oldest first. */
class SlidingLog {
  readonly times: number[] = [];
}

/** Makes the sorted-set members of two calls in the same millisecond, from any process, distinct. */
let sequence = 0;

/**
 * Sliding-window rate limit (`@SlidingRateLimit`): allows the call when fewer than `limit` calls were allowed in
 * the last `period` ms (rejected calls are not counted), and records it.
 * @example
 * ```ts
 * const window = await cache.backend.run(slidingWindowPrimitive, 'cashews:protect:api:ip1:sliding', 10, 1_000);
 * console.log(window.allowed, window.reset);
 * ```
 */
export const slidingWindowPrimitive = definePrimitive<[limit: number, period: number], WindowState>({
  name: 'slidingWindow',
  // The server's clock (TIME), so every process agrees on the window. ARGV: limit, period, unique member.
  // Answers {allowed 0/1, remaining, ms until the oldest call leaves}.
  lua: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit, period = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
local n = redis.call('ZCARD', KEYS[1])
local allowed = 0
if n < limit then
  redis.call('ZADD', KEYS[1], now, now .. ':' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[1], period)
  n = n + 1
  allowed = 1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local reset = period
if oldest[2] then reset = math.max(1, tonumber(oldest[2]) + period - now) end
return {allowed, math.max(0, limit - n), reset}`,
  redisArgs: (limit, period) => [
    limit,
    period,
    `${process.pid}:${++sequence}:${Math.random().toString(36).slice(2, 8)}`,
  ],
  fromRedis(reply) {
    const [allowed, remaining, reset] = reply as [number, number, number];
    return { allowed: allowed === 1, remaining, reset };
  },
  memory(entries, key, limit, period) {
    const now = entries.now();
    const found = entries.get(key);
    const log = found instanceof SlidingLog ? found : new SlidingLog();
    const times = log.times;
    let expired = 0;
    while (expired < times.length && times[expired] <= now - period) expired++;
    if (expired) times.splice(0, expired);
    if (times.length < limit) {
      times.push(now);
      entries.set(key, log, period);
      return { allowed: true, remaining: limit - times.length, reset: times[0] + period - now };
    }
    return { allowed: false, remaining: 0, reset: Math.max(1, times[0] + period - now) };
  },
  off: (limit, period) => ({ allowed: true, remaining: Math.max(0, limit - 1), reset: period }),
});
