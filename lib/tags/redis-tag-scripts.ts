/**
 * Redis side of tags. Each tag has a sorted set `cashews:tag:<tag>` whose members are the tagged keys,
 * scored by the time they expire (ms since the epoch, `inf` without TTL), and each tagged key has a set
 * `cashews:tags-of:<key>` of its tag indexes, expiring with the key. An index never outlives its keys:
 * - a key that expires: every write to an index first drops members whose time has passed, and the index
 *   itself expires just after its latest-expiring member;
 * - a key that is removed (`delete`, `deleteMany`, `deleteMatch`, or `deleteTags` of another of its tags):
 *   the removal reads the key's tag list and takes the key out of each of those indexes, deleting an index
 *   left empty and moving the expiry of one that lost its latest-expiring member.
 * - a key whose life changes (`set` without tags, `expire`, `setMany`, a tagged `set` naming other tags): the
 *   write finds the key's tag list, moves the key's score in each index it names to the key's new expiry and
 *   extends the tag list with it, so the key stays in its tags as long as it lives (and no longer). A key that
 *   never had tags has no tag list: its write checks that one key (`EXISTS`), in the same script as the write.
 * Times come from the Redis server clock (`TIME`), never from the clients.
 */

/** Lua shared by the scripts: index maintenance. */
const INDEX_FUNCTIONS = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function fit_expiry(tagKey)
  local top = redis.call('ZRANGE', tagKey, -1, -1, 'WITHSCORES')
  if top[2] == nil then return end
  if top[2] == 'inf' then
    redis.call('PERSIST', tagKey)
  else
    redis.call('PEXPIREAT', tagKey, string.format('%d', tonumber(top[2]) + 1000))
  end
end
local function index(tagKey, member, ttl, now)
  redis.call('ZREMRANGEBYSCORE', tagKey, '-inf', string.format('%d', now))
  if ttl > 0 then
    redis.call('ZADD', tagKey, string.format('%d', now + ttl), member)
  else
    redis.call('ZADD', tagKey, 'inf', member)
  end
  fit_expiry(tagKey)
end
local function untag(tagKey, member)
  if redis.call('ZREM', tagKey, member) == 1 then fit_expiry(tagKey) end
end
local function live_as(tagsOf, ttl)
  if ttl > 0 then redis.call('PEXPIRE', tagsOf, ttl) else redis.call('PERSIST', tagsOf) end
end
local function list_tags(tagsOf, ttl, tagKeys)
  redis.call('SADD', tagsOf, unpack(tagKeys))
  live_as(tagsOf, ttl)
end
local function keep_tags(tagsOf, member, ttl, now)
  local tagKeys = redis.call('SMEMBERS', tagsOf)
  if #tagKeys == 0 then return end
  for _, tagKey in ipairs(tagKeys) do index(tagKey, member, ttl, now) end
  live_as(tagsOf, ttl)
end
`;

/**
 * Single server: a plain `SET` that keeps the key in the tags it already has (see above: a key whose life changes).
 * KEYS[1] = the key, KEYS[2] = its tag list; ARGV[1] = raw value, ARGV[2] = TTL ms (0: none), ARGV[3] = '' | 'NX' |
 * 'XX'. Answers 1 when written, 0 when `NX`/`XX` prevented it. A key without a tag list costs the `SET` and one
 * `EXISTS`: each form of `SET` is spelled out (no argument table to build) and the index functions are defined only
 * past that check.
 */
export const SET_KEEPING_TAGS_SCRIPT = `
local written
if ARGV[3] == '' then
  if ARGV[2] == '0' then written = redis.call('SET', KEYS[1], ARGV[1])
  else written = redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
elseif ARGV[2] == '0' then written = redis.call('SET', KEYS[1], ARGV[1], ARGV[3])
else written = redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], ARGV[3]) end
if not written then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then return 1 end
${INDEX_FUNCTIONS}
keep_tags(KEYS[2], KEYS[1], tonumber(ARGV[2]), now_ms())
return 1`;

/**
 * Single server: `PEXPIRE` that moves the key's tag entries and tag list to its new expiry. KEYS[1] = the key,
 * KEYS[2] = its tag list; ARGV[1] = TTL ms. Answers 1 when the key exists (its TTL was set), else 0.
 */
export const EXPIRE_KEEPING_TAGS_SCRIPT = `
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then return 1 end
${INDEX_FUNCTIONS}
keep_tags(KEYS[2], KEYS[1], tonumber(ARGV[1]), now_ms())
return 1`;

/**
 * Single server: `setMany`, each key kept in the tags it already has. KEYS = the keys; ARGV[1] = TTL ms (0: none),
 * ARGV[2] = the tag list prefix, ARGV[3..] = the values in order. The tag lists and indexes are derived from the keys
 * (not declared): single server only (Cluster writes each key by its own `set`). Answers the number of keys.
 */
export const SET_MANY_KEEPING_TAGS_SCRIPT = `${INDEX_FUNCTIONS}
local ttl = tonumber(ARGV[1])
local now = nil
for i, key in ipairs(KEYS) do
  if ttl > 0 then redis.call('SET', key, ARGV[i + 2], 'PX', ttl) else redis.call('SET', key, ARGV[i + 2]) end
  local tagsOf = ARGV[2] .. key
  if redis.call('EXISTS', tagsOf) == 1 then
    now = now or now_ms()
    keep_tags(tagsOf, key, ttl, now)
  end
end
return #KEYS`;

/**
 * Single server: `SET` the key, index it under every tag and list its tags, in one atomic script.
 * KEYS[1] = the key, KEYS[2] = its tag list, KEYS[3..n] = tag indexes; ARGV[1] = raw value, ARGV[2] = TTL
 * ms (0: none), ARGV[3] = '' | 'NX' | 'XX'. Answers 1 when written, 0 when `NX`/`XX` prevented it.
 */
export const SET_TAGGED_SCRIPT = `${INDEX_FUNCTIONS}
local ttl = tonumber(ARGV[2])
local args = { 'SET', KEYS[1], ARGV[1] }
if ttl > 0 then
  args[#args + 1] = 'PX'
  args[#args + 1] = ARGV[2]
end
if ARGV[3] ~= '' then args[#args + 1] = ARGV[3] end
if not redis.call(unpack(args)) then return 0 end
local now = now_ms()
-- Tags it had before: kept as long as the key now lives.
keep_tags(KEYS[2], KEYS[1], ttl, now)
local tagKeys = {}
for i = 3, #KEYS do
  index(KEYS[i], KEYS[1], ttl, now)
  tagKeys[#tagKeys + 1] = KEYS[i]
end
list_tags(KEYS[2], ttl, tagKeys)
return 1`;

/**
 * Single server: removes keys and takes each out of the indexes its tag list names, atomically.
 * KEYS = the keys; ARGV[1] = the tag list prefix. The tag lists and indexes are derived from the keys, so
 * they are not declared: single server only (Cluster does the same in separate single-key steps).
 * Answers how many keys existed.
 */
export const DELETE_TAGGED_SCRIPT = `${INDEX_FUNCTIONS}
local removed = 0
for i = 1, #KEYS do
  local tagsOf = ARGV[1] .. KEYS[i]
  for _, tagKey in ipairs(redis.call('SMEMBERS', tagsOf)) do untag(tagKey, KEYS[i]) end
  redis.call('UNLINK', tagsOf)
  removed = removed + redis.call('UNLINK', KEYS[i])
end
return removed`;

/**
 * Cluster: the tag index and its keys live in different slots, so the key is written by a plain `SET` and
 * each index by this single-key script. KEYS[1] = tag index; ARGV[1] = key; ARGV[2] = TTL ms (0: none).
 */
export const INDEX_TAG_SCRIPT = `${INDEX_FUNCTIONS}
index(KEYS[1], ARGV[1], tonumber(ARGV[2]), now_ms())
return 1`;

/** Cluster: lists tag indexes of a key. KEYS[1] = its tag list; ARGV[1] = TTL ms (0: none), ARGV[2..] = indexes. */
export const LIST_TAGS_SCRIPT = `${INDEX_FUNCTIONS}
local tagKeys = {}
for i = 2, #ARGV do tagKeys[#tagKeys + 1] = ARGV[i] end
list_tags(KEYS[1], tonumber(ARGV[1]), tagKeys)
return 1`;

/**
 * Cluster: the key was written (or its TTL set) by a plain command, in its own slot: its tag list is extended to the
 * key's new TTL, and the indexes it names are answered, for the caller to move the key's entry in each
 * ({@link INDEX_TAG_SCRIPT}). KEYS[1] = the tag list; ARGV[1] = TTL ms (0: none). Answers nothing for a key that has
 * no tag list.
 */
export const KEEP_TAGS_SCRIPT = `${INDEX_FUNCTIONS}
local tagKeys = redis.call('SMEMBERS', KEYS[1])
if #tagKeys > 0 then live_as(KEYS[1], tonumber(ARGV[1])) end
return tagKeys`;

/** Cluster: takes and deletes a key's tag list. KEYS[1] = the tag list. Answers the tag indexes. */
export const TAKE_TAGS_SCRIPT = `
local tagKeys = redis.call('SMEMBERS', KEYS[1])
redis.call('UNLINK', KEYS[1])
return tagKeys`;

/** Cluster: takes a removed key out of one index. KEYS[1] = tag index; ARGV[1] = key. */
export const UNTAG_SCRIPT = `${INDEX_FUNCTIONS}
untag(KEYS[1], ARGV[1])
return 1`;

/** Commands defined on the ioredis client by the Redis backend. */
export interface TagScriptCommands {
  cashewsSet(key: string, tagsOf: string, raw: string, ttl: number, exist: string): Promise<number>;
  cashewsExpire(key: string, tagsOf: string, ttl: number): Promise<number>;
  cashewsSetMany(...keysThenArgs: Array<string | number>): Promise<number>;
  cashewsKeepTags(tagsOf: string, ttl: number): Promise<string[]>;
  cashewsSetTagged(...keysThenArgs: Array<string | number>): Promise<number>;
  cashewsDeleteTagged(...keysThenArgs: Array<string | number>): Promise<number>;
  cashewsIndexTag(tagKey: string, member: string, ttl: number): Promise<number>;
  cashewsListTags(tagsOf: string, ttl: number, ...tagKeys: string[]): Promise<number>;
  cashewsTakeTags(tagsOf: string): Promise<string[]>;
  cashewsUntag(tagKey: string, member: string): Promise<number>;
}

/** Defines the tag scripts on an ioredis client (single server or Cluster). */
export function defineTagScripts(client: {
  defineCommand(name: string, definition: { lua: string; numberOfKeys?: number }): void;
}): void {
  client.defineCommand('cashewsSet', { numberOfKeys: 2, lua: SET_KEEPING_TAGS_SCRIPT });
  client.defineCommand('cashewsExpire', { numberOfKeys: 2, lua: EXPIRE_KEEPING_TAGS_SCRIPT });
  client.defineCommand('cashewsSetMany', { lua: SET_MANY_KEEPING_TAGS_SCRIPT });
  client.defineCommand('cashewsKeepTags', { numberOfKeys: 1, lua: KEEP_TAGS_SCRIPT });
  client.defineCommand('cashewsSetTagged', { lua: SET_TAGGED_SCRIPT });
  client.defineCommand('cashewsDeleteTagged', { lua: DELETE_TAGGED_SCRIPT });
  client.defineCommand('cashewsIndexTag', { numberOfKeys: 1, lua: INDEX_TAG_SCRIPT });
  client.defineCommand('cashewsListTags', { numberOfKeys: 1, lua: LIST_TAGS_SCRIPT });
  client.defineCommand('cashewsTakeTags', { numberOfKeys: 1, lua: TAKE_TAGS_SCRIPT });
  client.defineCommand('cashewsUntag', { numberOfKeys: 1, lua: UNTAG_SCRIPT });
}
