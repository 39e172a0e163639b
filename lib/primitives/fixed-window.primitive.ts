import type { WindowState } from '../backends/protect-types.js';
import { definePrimitive, type MemoryEntries } from './primitive.js';

/** Memory state of a window, told apart from stored values by class. */
class FixedWindow {
  count = 1;
}

/**
 * Fixed-window rate limit (`@RateLimit`): counts one call in the key's window of `period` ms; the first call
 * over `limit` bans the key for `banTtl` ms. The count lives for the longer of the ban and the rest of the window:
 * it is what stops calls inside the window, so a ban shorter than what is left of it must not end the window early
 * (2 calls per 10 s with a 300 ms ban would otherwise let 2 more through 300 ms later).
 * @example
 * ```ts
 * // 100 calls a minute, a 5-minute ban for the first call over it.
 * const window = await cache.backend.run(fixedWindowPrimitive, 'cashews:protect:api:ip1:rate', 100, 60_000, 300_000);
 * console.log(window.allowed, window.remaining);
 * ```
 */
export const fixedWindowPrimitive = definePrimitive<[limit: number, period: number, banTtl: number], WindowState>({
  name: 'fixedWindow',
  // The server's clock (PEXPIRE/PTTL), so every process agrees on the window. Answers {count, ms until reset}.
  // A call that sets the expiry answers the duration it set, as the memory code does: a PTTL read right after
  // PEXPIRE may already be a few ms short on a busy server (Redis 7.0 does not freeze time inside a script).
  lua: `
local n = redis.call('INCR', KEYS[1])
if n == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {n, tonumber(ARGV[2])}
end
local ttl = redis.call('PTTL', KEYS[1])
if n == tonumber(ARGV[1]) + 1 then
  local left = ttl
  if left < 0 then left = tonumber(ARGV[2]) end
  if tonumber(ARGV[3]) > left then left = tonumber(ARGV[3]) end
  redis.call('PEXPIRE', KEYS[1], left)
  return {n, left}
end
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]); ttl = tonumber(ARGV[2]) end
return {n, ttl}`,
  redisArgs: (limit, period, banTtl) => [limit, period, banTtl],
  fromRedis(reply, limit) {
    const [count, reset] = reply as [number, number];
    return { allowed: count <= limit, remaining: Math.max(0, limit - count), reset };
  },
  // `ARGV[1]` calls at once: one INCRBY, then each call's reset as the script above would have answered it, the calls
  // run in order (the one counted 1 starts the window, the one counted limit + 1 starts the ban unless the window
  // outlasts it, a call that finds no expiry starts a window); the last expiry set is the key's. Answers {first
  // count, reset of each call}.
  many: {
    lua: `
local n = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local ban = tonumber(ARGV[4])
local last = redis.call('INCRBY', KEYS[1], n)
local first = last - n + 1
local ttl = -1
if first > 1 then ttl = redis.call('PTTL', KEYS[1]) end
local set = nil
local out = {first}
for count = first, last do
  if count == 1 then
    set = period
  elseif count == limit + 1 then
    local left = set or ttl
    if left < 0 then left = period end
    set = math.max(ban, left)
  elseif set == nil and ttl < 0 then
    set = period
  end
  out[#out + 1] = set or ttl
end
if set ~= nil then redis.call('PEXPIRE', KEYS[1], set) end
return out`,
    // An expiry of 0 (a period of 0 ms through the command API; @RateLimit refuses it) deletes the key at once, so
    // the next call starts a window of its own: such calls run one script each.
    when: (_limit, period) => period > 0,
    fromRedis(reply, index, limit) {
      const answers = reply as number[];
      const count = answers[0] + index;
      return { allowed: count <= limit, remaining: Math.max(0, limit - count), reset: answers[index + 1] };
    },
  },
  memory(entries, key, limit, period, banTtl) {
    const current = entries.get(key);
    if (!(current instanceof FixedWindow)) {
      entries.set(key, new FixedWindow(), period);
      return { allowed: 1 <= limit, remaining: Math.max(0, limit - 1), reset: period };
    }
    const count = ++current.count;
    let reset = remaining(entries, key, period);
    if (count === limit + 1 && banTtl > reset) {
      entries.set(key, current, banTtl);
      reset = banTtl;
    }
    return { allowed: count <= limit, remaining: Math.max(0, limit - count), reset };
  },
  // Never trips while switched off: decorated methods always run.
  off: (limit, period) => ({ allowed: true, remaining: Math.max(0, limit - 1), reset: period }),
});

function remaining(entries: MemoryEntries, key: string, fallback: number): number {
  const left = entries.ttlLeft(key);
  return left !== undefined && Number.isFinite(left) && left > 0 ? Math.round(left) : fallback;
}
