/**
 * Redis side of tags. Each tag has a sorted set `cashews:tag:<tag>` whose members are the tagged keys,
 * scored by the time they expire (ms since the epoch, `inf` without TTL). Every write to an index first
 * drops members whose time has passed, then gives the index itself an expiry just after its
 * latest-expiring member: an index never outlives its keys, so indexes cannot grow without bound as
 * tagged keys expire. Times come from the Redis server clock (`TIME`), never from the clients.
 */

/** Lua shared by both scripts: index `member` under the tag index `tagKey` for `ttl` ms (0: no expiry). */
const INDEX_FUNCTION = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function index(tagKey, member, ttl, now)
  redis.call('ZREMRANGEBYSCORE', tagKey, '-inf', string.format('%d', now))
  if ttl > 0 then
    redis.call('ZADD', tagKey, string.format('%d', now + ttl), member)
  else
    redis.call('ZADD', tagKey, 'inf', member)
  end
  local top = redis.call('ZRANGE', tagKey, -1, -1, 'WITHSCORES')
  if top[2] == 'inf' then
    redis.call('PERSIST', tagKey)
  else
    redis.call('PEXPIREAT', tagKey, string.format('%d', tonumber(top[2]) + 1000))
  end
end
`;

/**
 * Single server: `SET` the key and index it under every tag in one atomic script.
 * KEYS[1] = the key, KEYS[2..n] = tag indexes; ARGV[1] = raw value, ARGV[2] = TTL ms (0: none),
 * ARGV[3] = '' | 'NX' | 'XX'. Answers 1 when written, 0 when `NX`/`XX` prevented it (nothing indexed).
 */
export const SET_TAGGED_SCRIPT = `${INDEX_FUNCTION}
local ttl = tonumber(ARGV[2])
local args = { 'SET', KEYS[1], ARGV[1] }
if ttl > 0 then
  args[#args + 1] = 'PX'
  args[#args + 1] = ARGV[2]
end
if ARGV[3] ~= '' then args[#args + 1] = ARGV[3] end
if not redis.call(unpack(args)) then return 0 end
local now = now_ms()
for i = 2, #KEYS do index(KEYS[i], KEYS[1], ttl, now) end
return 1`;

/**
 * Cluster: the tag index and its keys live in different slots, so the key is written by a plain `SET` and
 * each index by this single-key script. KEYS[1] = tag index; ARGV[1] = key; ARGV[2] = TTL ms (0: none).
 */
export const INDEX_TAG_SCRIPT = `${INDEX_FUNCTION}
index(KEYS[1], ARGV[1], tonumber(ARGV[2]), now_ms())
return 1`;

/** Commands defined on the ioredis client by the Redis backend. */
export interface TagScriptCommands {
  cashewsSetTagged(...keysThenArgs: Array<string | number>): Promise<number>;
  cashewsIndexTag(tagKey: string, member: string, ttl: number): Promise<number>;
}
