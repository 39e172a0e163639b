import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { ResolvedCacheConfig } from '../config/cache-options.js';
import { CacheValueError } from '../errors.js';
import { toRedisGlob } from '../keys/pattern.js';
import type { Backend } from './backend.interface.js';
import { StallWatchdog } from './stall-watchdog.js';

// Single-key scripts only, so they run unchanged on Redis Cluster.
const INCR_SCRIPT = `
local created = redis.call('EXISTS', KEYS[1]) == 0
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if created and tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return value`;
const UNLOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

type Client = Redis | Cluster;
interface ScriptCommands {
  cashewsIncr(key: string, by: number, ttl: number): Promise<number>;
  cashewsUnlock(key: string, token: string): Promise<number>;
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
 */
export class RedisBackend implements Backend {
  readonly kind: 'redis' | 'cluster' = 'redis';
  readonly client: Client;
  private readonly watchdog?: StallWatchdog;

  constructor(config: ResolvedCacheConfig, client?: Client) {
    if (client) {
      this.client = client;
    } else {
      // A single server gets the cheaper StallWatchdog instead of ioredis's timer per command.
      const { commandTimeout, ...options } = redisConnectionOptions(config);
      const redis = new Redis({ ...options, ...config.nodes[0], db: config.db });
      if (commandTimeout) this.watchdog = new StallWatchdog(redis, commandTimeout);
      this.client = redis;
    }
    this.client.defineCommand('cashewsIncr', { numberOfKeys: 1, lua: INCR_SCRIPT });
    this.client.defineCommand('cashewsUnlock', { numberOfKeys: 1, lua: UNLOCK_SCRIPT });
    // Failures surface on the commands; an unhandled 'error' event would crash the process.
    this.client.on('error', () => undefined);
  }

  protected get scripts(): ScriptCommands {
    return this.client as unknown as ScriptCommands;
  }

  async connect(): Promise<void> {
    if (this.client.status === 'wait') await this.client.connect();
  }

  async close(): Promise<void> {
    this.watchdog?.stop();
    if (this.client.status === 'end') return;
    // quit()/disconnect() only start closing; wait for 'end' so no socket outlives close(). Bounded,
    // because a client between reconnect attempts has no socket left to emit it.
    let timer: NodeJS.Timeout | undefined;
    const ended = new Promise<void>((resolve) => {
      this.client.once('end', () => resolve());
      timer = setTimeout(resolve, 1_000);
      timer.unref();
    });
    try {
      if (this.client.status === 'ready') await this.client.quit();
    } catch {
      // quit fails when the server is already gone; disconnect below still stops reconnecting.
    }
    this.client.disconnect();
    await ended;
    clearTimeout(timer);
  }

  async get(key: string): Promise<unknown> {
    return (await this.client.get(key)) ?? undefined;
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

  async delete(key: string): Promise<boolean> {
    return (await this.client.del(key)) > 0;
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    return keys.length ? this.client.del(...keys) : 0;
  }

  /** Scans every node that holds data (one server here, every master in a cluster). */
  protected nodes(): Redis[] {
    return [this.client as Redis];
  }

  async *scan(pattern: string): AsyncIterable<string> {
    const match = toRedisGlob(pattern);
    for (const node of this.nodes()) {
      const seen = new Set<string>();
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
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

  protected async unlinkAll(keys: string[]): Promise<number> {
    return this.client.unlink(...keys);
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
}
