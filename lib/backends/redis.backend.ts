import { Logger } from '@nestjs/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { ResolvedCacheConfig } from '../config/cache-options.js';
import { CacheValueError, CashewsConfigError } from '../errors.js';
import { toRedisGlob } from '../keys/pattern.js';
import { isProtectedKey, scanSkipsProtected } from '../keys/protected-keys.js';
import type { Backend } from './backend.interface.js';
import {
  circuitState,
  type CircuitOp,
  type CircuitSettings,
  type CircuitState,
  type WindowState,
} from './protect-types.js';
import { StallWatchdog } from './stall-watchdog.js';
import { databaseCount, failUnansweredOnClose, refuseFailedSelect } from './connection-guards.js';
import { defineTagScripts, type TagScriptCommands } from '../tags/redis-tag-scripts.js';
import { TAG_BATCH, TAGS_OF_PREFIX, tagIndexKey, tagsOfKey } from '../tags/tag-keys.js';

// Single-key scripts only, so they run unchanged on Redis Cluster.
const INCR_SCRIPT = `
local created = redis.call('EXISTS', KEYS[1]) == 0
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if created and tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return value`;
const UNLOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
// Protective primitives: one key each, the server's clock (TIME) so every process agrees on windows.
// ARGV: limit, period, banTtl. Answers {count, ms until reset}.
const FIXED_WINDOW_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n == tonumber(ARGV[1]) + 1 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]); ttl = tonumber(ARGV[2]) end
return {n, ttl}`;
// ARGV: limit, period, unique member. Answers {allowed 0/1, remaining, ms until the oldest call leaves}.
const SLIDING_WINDOW_SCRIPT = `
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
return {allowed, math.max(0, limit - n), reset}`;
// The circuit breaker in one hash; mirrors MemoryBackend.circuit. ARGV: op, errorsRate, period, ttl,
// minCalls, halfOpenTtl. Answers {code, retryAfter}: 0 closed, 1 half-open trial, 2 open, 3 half-open busy.
const CIRCUIT_SCRIPT = `
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
return {0, 0}`;

type Client = Redis | Cluster;
interface ScriptCommands {
  cashewsIncr(key: string, by: number, ttl: number): Promise<number>;
  cashewsUnlock(key: string, token: string): Promise<number>;
  cashewsFixedWindow(key: string, limit: number, period: number, banTtl: number): Promise<[number, number]>;
  cashewsSlidingWindow(key: string, limit: number, period: number, member: string): Promise<[number, number, number]>;
  cashewsCircuit(key: string, op: CircuitOp, ...settings: number[]): Promise<[number, number]>;
}

/** Redis answers `null` for a missing key; the Backend contract says `undefined`. */
function orUndefined(value: string | null): string | undefined {
  return value ?? undefined;
}

/** ioredis options shared by a single server and every cluster node. */
export function redisConnectionOptions(config: ResolvedCacheConfig): RedisOptions {
  return {
    username: config.username,
    password: config.password,
    tls: config.tls ? {} : undefined,
    // RESP2 keeps us compatible with older and managed servers; we need nothing from RESP3.
    protocol: 2,
    commandTimeout: config.commandTimeout || undefined,
    connectTimeout: config.connectTimeout,
    maxRetriesPerRequest: config.maxRetries,
    // At most once per call: a command whose reply was lost may have run, so it is never written again
    // after a reconnect (failUnansweredOnClose rejects it instead; safe mode answers a miss).
    autoResendUnfulfilledCommands: false,
    // No offline queue: while Redis is away, commands fail at once (a miss in safe mode) instead of
    // piling up in memory until it returns.
    enableOfflineQueue: false,
    lazyConnect: true,
    // Only reached when QUIT failed, i.e. the server is gone or frozen: no point ending gracefully.
    disconnectTimeout: 200,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  };
}

/**
 * Backend on one Redis server (`redis://`, `rediss://`). Values are strings from the string codec.
 * {@link RedisClusterBackend} overrides the operations that touch several keys or every node.
 * @example
 * ```ts
 * const cache = await createCache('redis://127.0.0.1:6379/0');
 * if (cache.backend instanceof RedisBackend) console.log(await cache.backend.client.ping()); // 'PONG'
 * ```
 */
export class RedisBackend implements Backend {
  readonly kind: 'redis' | 'cluster' = 'redis';
  readonly client: Client;
  private readonly watchdog?: StallWatchdog;
  private sequence = 0;
  /** The server's refusal of the URL's database, until a connection selects it (see {@link connect}). */
  private selectError?: Error;
  /** Builds the bootstrap error for {@link selectError} (set by {@link guardDatabase}). */
  private databaseError?: () => Promise<CashewsConfigError>;

  constructor(config: ResolvedCacheConfig, client?: Client) {
    if (client) {
      this.client = client;
    } else {
      // A single server gets the cheaper StallWatchdog instead of ioredis's timer per command.
      const { commandTimeout, ...options } = redisConnectionOptions(config);
      const redis = new Redis({ ...options, ...config.nodes[0], db: config.db });
      if (commandTimeout) this.watchdog = new StallWatchdog(redis, commandTimeout);
      this.client = redis;
      this.guardDatabase(config, redis);
    }
    if (this.client instanceof Redis) failUnansweredOnClose(this.client);
    else this.client.on('+node', (node: Redis) => failUnansweredOnClose(node));
    this.client.defineCommand('cashewsIncr', { numberOfKeys: 1, lua: INCR_SCRIPT });
    this.client.defineCommand('cashewsUnlock', { numberOfKeys: 1, lua: UNLOCK_SCRIPT });
    this.client.defineCommand('cashewsFixedWindow', { numberOfKeys: 1, lua: FIXED_WINDOW_SCRIPT });
    this.client.defineCommand('cashewsSlidingWindow', { numberOfKeys: 1, lua: SLIDING_WINDOW_SCRIPT });
    this.client.defineCommand('cashewsCircuit', { numberOfKeys: 1, lua: CIRCUIT_SCRIPT });
    defineTagScripts(this.client);
    // Failures surface on the commands; an unhandled 'error' event would crash the process.
    this.client.on('error', () => undefined);
  }

  protected get scripts(): ScriptCommands {
    return this.client as unknown as ScriptCommands;
  }

  async connect(): Promise<void> {
    if (this.client.status !== 'wait') return;
    try {
      await this.client.connect();
    } catch (error) {
      throw this.selectError && this.databaseError ? await this.databaseError() : error;
    }
  }

  /**
   * A database the server does not have (`redis://host/99`) must not silently become db 0: at bootstrap
   * {@link connect} throws a {@link CashewsConfigError} naming the database and the server's limit; after a
   * reconnect (say, to a server restarted with fewer databases) the connection is dropped before it is used
   * and retried until `SELECT` succeeds, commands failing meanwhile (safe mode: misses), logged once.
   */
  private guardDatabase(config: ResolvedCacheConfig, redis: Redis): void {
    if (!config.db) return;
    const logger = new Logger(config.name ? `Cashews:${config.name}` : 'Cashews');
    let connected = false;
    refuseFailedSelect(
      redis,
      (error) => {
        if (connected && !this.selectError) {
          logger.warn(
            `Cannot select database ${config.db} on ${config.displayUrl} (${error.message}); ` +
              `the connection is not used until SELECT succeeds (retrying).`,
          );
        }
        this.selectError = error;
      },
      () => {
        connected = true;
        this.selectError = undefined;
      },
    );
    this.databaseError = async () => {
      const { commandTimeout, ...options } = redisConnectionOptions(config);
      const probe = new Redis({
        ...options,
        ...config.nodes[0],
        commandTimeout: commandTimeout ?? config.connectTimeout,
        db: 0,
        retryStrategy: () => null,
      });
      const count = await databaseCount(probe);
      const limit = count
        ? `the server has ${count} databases (0 to ${count - 1})`
        : `the server refused it ("${this.selectError?.message}") and does not report its number of databases ` +
          `(CONFIG GET databases is not allowed)`;
      return new CashewsConfigError(
        `Database ${config.db} in cache URL ${config.displayUrl} does not exist: ${limit}. ` +
          `Use a database number the server has (the path of the URL, e.g. /0), or raise "databases" in redis.conf.`,
        { cause: this.selectError },
      );
    };
  }

  async close(): Promise<void> {
    this.watchdog?.stop();
    if (this.client.status === 'end') return;
    // Between reconnect attempts (or before connecting) there is no socket, so no 'end' will come.
    const hasSocket = !['wait', 'reconnecting'].includes(this.client.status);
    // quit()/disconnect() only start closing; wait (bounded) for 'end' so no socket outlives close().
    let timer: NodeJS.Timeout | undefined;
    const ended = new Promise<void>((resolve) => {
      this.client.once('end', () => resolve());
      timer = setTimeout(resolve, 1_000);
    });
    try {
      if (this.client.status === 'ready') await this.client.quit();
    } catch {
      // quit fails when the server is already gone; disconnect below still stops reconnecting.
    }
    this.client.disconnect();
    if (hasSocket) await ended;
    clearTimeout(timer);
  }

  /** Not `async`: an extra async frame costs a promise hop on the hit path. */
  get(key: string): Promise<unknown> {
    return this.client.get(key).then(orUndefined);
  }

  async getMany(keys: readonly string[]): Promise<unknown[]> {
    if (keys.length === 0) return [];
    const values = await this.client.mget(...keys);
    return values.map((value) => value ?? undefined);
  }

  async set(key: string, raw: unknown, options: { ttl?: number; exist?: boolean } = {}): Promise<boolean> {
    const args: Array<string | number> = [];
    if (options.ttl) args.push('PX', options.ttl);
    if (options.exist === true) args.push('XX');
    if (options.exist === false) args.push('NX');
    const reply = await (this.client.set as (...a: unknown[]) => Promise<string | null>)(key, raw as string, ...args);
    return reply === 'OK';
  }

  async setMany(entries: ReadonlyArray<readonly [string, unknown]>, ttl?: number): Promise<void> {
    if (entries.length === 0) return;
    const pipeline = this.client.multi();
    for (const [key, raw] of entries) {
      if (ttl) pipeline.set(key, raw as string, 'PX', ttl);
      else pipeline.set(key, raw as string);
    }
    await pipeline.exec();
  }

  async incr(key: string, by: number, ttl?: number): Promise<number> {
    try {
      return Number(await this.scripts.cashewsIncr(key, by, ttl ?? 0));
    } catch (error) {
      if (/not an integer|out of range/i.test(String((error as Error).message))) {
        throw new CacheValueError(`Cannot increment "${key}": the stored value is not an integer.`, { cause: error });
      }
      throw error;
    }
  }

  /** Removes the key from its tag indexes too (see {@link unlinkAll}). */
  async delete(key: string): Promise<boolean> {
    return (await this.unlinkAll([key])) > 0;
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    return keys.length ? this.unlinkAll([...keys]) : 0;
  }

  /** Scans every node that holds data (one server here, every master in a cluster). */
  protected nodes(): Redis[] {
    return [this.client as Redis];
  }

  /** Protection state (see lib/keys/protected-keys.ts) is left out unless `pattern` names its namespace. */
  async *scan(pattern: string): AsyncIterable<string> {
    const match = toRedisGlob(pattern);
    const skipProtected = scanSkipsProtected(pattern);
    for (const node of this.nodes()) {
      const seen = new Set<string>();
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          if (skipProtected && isProtectedKey(key)) continue;
          // SCAN may repeat a key; report each once.
          if (!seen.has(key)) {
            seen.add(key);
            yield key;
          }
        }
      } while (cursor !== '0');
    }
  }

  async deleteMatch(pattern: string): Promise<number> {
    let count = 0;
    let batch: string[] = [];
    for await (const key of this.scan(pattern)) {
      batch.push(key);
      if (batch.length >= 500) {
        count += await this.unlinkAll(batch);
        batch = [];
      }
    }
    return count + (batch.length ? await this.unlinkAll(batch) : 0);
  }

  /**
   * Every removal of keys comes here: one script unlinks them and takes each out of the tag indexes its tag
   * list names, so no index outlives its keys (see lib/tags/redis-tag-scripts.ts). Answers how many existed.
   */
  protected async unlinkAll(keys: string[]): Promise<number> {
    return this.tagScripts.cashewsDeleteTagged(keys.length, ...keys, TAGS_OF_PREFIX);
  }

  async expire(key: string, ttl: number): Promise<boolean> {
    return (await this.client.pexpire(key, ttl)) === 1;
  }

  async getExpire(key: string): Promise<number> {
    return this.client.pttl(key);
  }

  async exists(key: string): Promise<boolean> {
    return (await this.client.exists(key)) === 1;
  }

  async ping(message?: string): Promise<string> {
    return message === undefined ? this.client.ping() : this.client.ping(message);
  }

  async clear(): Promise<void> {
    await Promise.all(this.nodes().map((node) => node.flushdb()));
  }

  async setLock(key: string, token: string, ttl: number): Promise<boolean> {
    return (await this.client.set(key, token, 'PX', ttl, 'NX')) === 'OK';
  }

  async unlock(key: string, token: string): Promise<boolean> {
    return (await this.scripts.cashewsUnlock(key, token)) === 1;
  }

  async fixedWindow(key: string, limit: number, period: number, banTtl: number): Promise<WindowState> {
    const [count, reset] = await this.scripts.cashewsFixedWindow(key, limit, period, banTtl);
    return { allowed: count <= limit, remaining: Math.max(0, limit - count), reset };
  }

  async slidingWindow(key: string, limit: number, period: number): Promise<WindowState> {
    const member = `${process.pid}:${++this.sequence}:${Math.random().toString(36).slice(2, 8)}`;
    const [allowed, remaining, reset] = await this.scripts.cashewsSlidingWindow(key, limit, period, member);
    return { allowed: allowed === 1, remaining, reset };
  }

  async circuit(key: string, op: CircuitOp, s: CircuitSettings): Promise<CircuitState> {
    const [code, retryAfter] = await this.scripts.cashewsCircuit(
      key,
      op,
      s.errorsRate,
      s.period,
      s.ttl,
      s.minCalls,
      s.halfOpenTtl,
    );
    return circuitState(code, retryAfter);
  }

  // --- Tags (see lib/tags/redis-tag-scripts.ts) -----------------------------------------------------------
  protected get tagScripts(): TagScriptCommands {
    return this.client as unknown as TagScriptCommands;
  }

  /**
   * One atomic script: `SET`, an index entry per tag, and the key's tag list (single server: every key is on
   * this node).
   */
  async setTagged(
    key: string,
    raw: unknown,
    tags: readonly string[],
    options: { ttl?: number; exist?: boolean } = {},
  ): Promise<boolean> {
    const mode = options.exist === true ? 'XX' : options.exist === false ? 'NX' : '';
    const indexes = tags.map(tagIndexKey);
    const written = await this.tagScripts.cashewsSetTagged(
      2 + indexes.length,
      key,
      tagsOfKey(key),
      ...indexes,
      raw as string,
      options.ttl ?? 0,
      mode,
    );
    return written === 1;
  }

  /**
   * Pops members of each index in batches (`ZPOPMIN`, so a key re-tagged meanwhile is either popped or
   * stays indexed, never lost) and unlinks them, taking them out of their other tags' indexes too. Bounded by the index size seen at the start, so writers
   * tagging new keys meanwhile cannot keep it looping. Expired members cost one pop each and count nothing.
   */
  async deleteTags(tags: readonly string[]): Promise<number> {
    const counts = await Promise.all(
      [...new Set(tags)].map(async (tag) => {
        const index = tagIndexKey(tag);
        let budget = await this.client.zcard(index);
        let count = 0;
        while (budget > 0) {
          const popped = await this.client.zpopmin(index, Math.min(budget, TAG_BATCH));
          if (popped.length === 0) break;
          const keys = popped.filter((_, i) => i % 2 === 0);
          budget -= keys.length;
          count += await this.unlinkAll(keys);
        }
        return count;
      }),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }
}
