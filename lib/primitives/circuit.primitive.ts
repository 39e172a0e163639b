import type { CircuitOp, CircuitSettings, CircuitState } from '../backends/protect-types.js';
import { definePrimitive } from './primitive.js';

/** Memory state of a circuit, told apart from stored values by class; the fields of the Redis hash. */
class CircuitRecord {
  open = 0;
  half = 0;
  probe = false;
  start = -1;
  calls = 0;
  fails = 0;
}

/** Decodes the `[code, retryAfter]` answer shared by the Lua script and the memory code. */
function circuitState(code: number, retryAfter: number): CircuitState {
  switch (code) {
    case 1:
      return { state: 'half-open', allowed: true, trial: true, retryAfter: 0 };
    case 2:
      return { state: 'open', allowed: false, trial: false, retryAfter };
    case 3:
      return { state: 'half-open', allowed: false, trial: false, retryAfter };
    default:
      return { state: 'closed', allowed: true, trial: false, retryAfter: 0 };
  }
}

/**
 * One atomic step of the circuit breaker stored at the key (`@CircuitBreaker`; see {@link CircuitOp}).
 * @example
 * ```ts
 * const settings = { errorsRate: 50, period: 60_000, ttl: 30_000, minCalls: 10, halfOpenTtl: 5_000 };
 * const state = await cache.backend.run(circuitPrimitive, 'cashews:protect:payments:circuit', 'check', settings);
 * if (!state.allowed) console.log(`retry in ${state.retryAfter} ms`);
 * ```
 */
export const circuitPrimitive = definePrimitive<[op: CircuitOp, settings: CircuitSettings], CircuitState>({
  name: 'circuit',
  // The circuit in one hash, the server's clock (TIME) so every process agrees; mirrors the memory code below.
  // ARGV: op, errorsRate, period, ttl, minCalls, halfOpenTtl. Answers {code, retryAfter}: 0 closed, 1 half-open
  // trial, 2 open, 3 half-open busy.
  lua: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local op = ARGV[1]
local rate, period, ttl = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local minCalls, halfTtl = tonumber(ARGV[5]), tonumber(ARGV[6])
local h = redis.call('HMGET', KEYS[1], 'open', 'half', 'probe', 'start', 'calls', 'fails')
local openUntil, halfUntil = tonumber(h[1]) or 0, tonumber(h[2]) or 0
local function open()
  local half = 0
  if halfTtl > 0 then half = now + ttl + halfTtl end
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'open', now + ttl, 'half', half)
  redis.call('PEXPIRE', KEYS[1], ttl + halfTtl + period)
  return {2, ttl}
end
if now < openUntil then return {2, openUntil - now} end
if now < halfUntil then
  if op == 'check' then
    if (tonumber(h[3]) or 0) == 0 then
      redis.call('HSET', KEYS[1], 'probe', 1)
      return {1, 0}
    end
    return {3, halfUntil - now}
  end
  if op == 'trial-ok' then
    redis.call('DEL', KEYS[1])
    return {0, 0}
  end
  if op == 'trial-fail' then return open() end
  return {3, halfUntil - now}
end
if op == 'check' then return {0, 0} end
local start, calls, fails = tonumber(h[4]), 0, 0
if start == nil or now - start >= period then
  start = now
else
  calls, fails = tonumber(h[5]) or 0, tonumber(h[6]) or 0
end
calls = calls + 1
if op == 'fail' or op == 'trial-fail' then fails = fails + 1 end
if calls >= minCalls and fails * 100 >= rate * calls then return open() end
redis.call('HSET', KEYS[1], 'open', 0, 'half', 0, 'probe', 0, 'start', start, 'calls', calls, 'fails', fails)
redis.call('PEXPIRE', KEYS[1], period)
return {0, 0}`,
  redisArgs: (op, s) => [op, s.errorsRate, s.period, s.ttl, s.minCalls, s.halfOpenTtl],
  fromRedis(reply) {
    const [code, retryAfter] = reply as [number, number];
    return circuitState(code, retryAfter);
  },
  memory(entries, key, op, s) {
    const now = entries.now();
    const found = entries.get(key);
    const c = found instanceof CircuitRecord ? found : new CircuitRecord();
    const open = () => {
      const next = new CircuitRecord();
      next.open = now + s.ttl;
      next.half = s.halfOpenTtl > 0 ? now + s.ttl + s.halfOpenTtl : 0;
      entries.set(key, next, s.ttl + s.halfOpenTtl + s.period);
      return circuitState(2, s.ttl);
    };
    if (now < c.open) return circuitState(2, c.open - now);
    if (now < c.half) {
      if (op === 'check') {
        if (c.probe) return circuitState(3, c.half - now);
        c.probe = true;
        return circuitState(1, 0);
      }
      if (op === 'trial-ok') {
        entries.delete(key);
        return circuitState(0, 0);
      }
      if (op === 'trial-fail') return open();
      return circuitState(3, c.half - now);
    }
    if (op === 'check') return circuitState(0, 0);
    if (c.start < 0 || now - c.start >= s.period) {
      c.start = now;
      c.calls = 0;
      c.fails = 0;
    }
    c.calls++;
    if (op === 'fail' || op === 'trial-fail') c.fails++;
    if (c.calls >= s.minCalls && c.fails * 100 >= s.errorsRate * c.calls) return open();
    c.open = 0;
    c.half = 0;
    c.probe = false;
    entries.set(key, c, s.period);
    return circuitState(0, 0);
  },
  // Never trips while switched off: decorated methods always run.
  off: () => circuitState(0, 0),
});
