import { Logger } from '@nestjs/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { ResolvedCacheConfig } from '../config/cache-options.js';
import { CashewsConfigError } from '../errors.js';
import { toRedisGlob } from '../keys/pattern.js';
import { isProtectedKey, isReservedKey, scanSkipsProtected } from '../keys/protected-keys.js';
import { BUILTIN_PRIMITIVES } from '../primitives/builtin.js';
import { primitiveFailure, type Primitive } from '../primitives/primitive.js';
import { incrPrimitive } from '../primitives/incr.primitive.js';
import type { BatchWrite } from './batch-write.js';
import type { Backend } from './backend.interface.js';
import { RAW_READER, type RawReader } from './raw-reader.js';
import { ReadBatch } from './read-batch.js';
import { CoalescedCalls } from './coalesced-calls.js';
import { autoPipelineTurn } from './auto-pipeline-turn.js';
import { ReplicaWait } from './replica-wait.js';
import { serverAddress } from './server-address.js';
import { StallWatchdog } from './stall-watchdog.js';
import { databaseCount, failUnansweredOnClose, refuseFailedSelect } from './connection-guards.js';
import {
  DELETE_TAGGED_SCRIPT,
  EXPIRE_KEEPING_TAGS_SCRIPT,
  SET_KEEPING_TAGS_SCRIPT,
  SET_TAGGED_SCRIPT,
  defineTagScripts,
  type TagScriptCommands,
} from '../tags/redis-tag-scripts.js';
import { isTagKey, TAG_BATCH, TAGS_OF_PREFIX, tagIndexKey, tagsOfKey } from '../tags/tag-keys.js';

type Client = Redis | Cluster;

/** How long {@link RedisBackend.close} waits for `QUIT` when `command_timeout` is 0. */
const QUIT_TIMEOUT_MS = 1_000;

/** A primitive's script as ioredis defines it on the client: the key, then the script's `ARGV`. */
type ScriptCommand = (key: string, ...argv: Array<string | number>) => Promise<unknown>;

/**
 * The script name of a primitive's `many` form: a NUL no primitive name holds, so it cannot take another primitive's
 * name (`fixedWindowMany` stays free).
 */
function manyName(name: string): string {
  return `${name}\0many`;
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

/** The set-tagged script's keys (see lib/tags/redis-tag-scripts.ts): the key, its tag list, each tag's index. */
function setTaggedKeys(key: string, tags: readonly string[]): string[] {
  return [key, tagsOfKey(key), ...tags.map(tagIndexKey)];
}

/** `SET`'s condition as the set scripts take it: `XX`, `NX` or ''. */
function existFlag(options: { exist?: boolean }): string {
  return options.exist === true ? 'XX' : options.exist === false ? 'NX' : '';
}

/** The set scripts' arguments (tagged or not): the value, the TTL (0: none) and `XX`/`NX`/''. */
function setTaggedArgs(raw: unknown, options: { ttl?: number; exist?: boolean }): Array<string | number> {
  return [raw as string, options.ttl ?? 0, existFlag(options)];
}

/**
 * Backend on one Redis master (`redis://`, `rediss://`, or the master Sentinels name for `redis+sentinel://`).
 * Values are strings from the string codec.
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
  protected readonly logger: Logger;
  private readonly watchdog?: StallWatchdog;
  /** How long {@link close} waits for the server to answer `QUIT` before it drops the connection. */
  private readonly quitTimeout: number;
  /** `wait_replicas`: confirms each write on that many replicas (see {@link written}). */
  private readonly replicaWait?: ReplicaWait;
  /** Primitives whose script is defined on the client (as `cashews_<name>`): the script and its command. */
  private readonly scripts = new Map<string, { lua: string; command: ScriptCommand }>();
  /** Single server: concurrent `GET`s sent as one `MGET` (see {@link ReadBatch}); flushed before every write. */
  private readonly reads?: ReadBatch;
  /**
   * Single server: calls of a primitive with a `many` form (a rate-limit window) for one key in the same tick, sent as
   * one script call (see {@link CoalescedCalls}); flushed before every write, after the reads.
   */
  private readonly calls?: CoalescedCalls;
  /**
   * A read settled by the caller's reader where the reply arrives (see {@link RawReader}): in the batch's reply
   * handling on a single server, on the `GET`'s reply on Cluster. Absent in a subclass that reads by its own `get`
   * (client-side caching), which must not be bypassed.
   */
  readonly readWith?: <T>(key: string, reader: RawReader<T>) => Promise<T>;
  /** The server's refusal of the URL's database, until a connection selects it (see {@link connect}). */
  private selectError?: Error;
  /** Builds the bootstrap error for {@link selectError} (set by {@link guardDatabase}). */
  private databaseError?: () => Promise<CashewsConfigError>;

  constructor(config: ResolvedCacheConfig, client?: Client) {
    this.logger = new Logger(config.name ? `Cashews:${config.name}` : 'Cashews');
    this.quitTimeout = config.commandTimeout || QUIT_TIMEOUT_MS;
    if (client) {
      this.client = client;
    } else {
      // A single server gets the cheaper StallWatchdog instead of ioredis's timer per command.
      const { commandTimeout, ...options } = redisConnectionOptions(config);
      // Auto-pipelining: commands issued in the same tick leave in one write (one syscall and, on the server,
      // one read for many commands). Unrelated to resending: an unanswered command is still never written again.
      const redis = new Redis({ ...options, ...serverAddress(config), db: config.db, enableAutoPipelining: true });
      if (commandTimeout) this.watchdog = new StallWatchdog(redis, commandTimeout);
      // WAIT holds the connection: it must answer (or give up) well before the watchdog declares a stall.
      if (config.waitReplicas) {
        const waitMs = commandTimeout ? Math.max(1, Math.floor(commandTimeout / 2)) : 1_000;
        this.replicaWait = new ReplicaWait(redis, config.waitReplicas, waitMs);
      }
      this.client = redis;
      this.guardDatabase(config, redis);
      // Not for subclasses that watch or route the client's commands themselves (client-side caching).
      if (new.target === RedisBackend) {
        this.reads = new ReadBatch(redis);
        if (!this.replicaWait) {
          this.calls = new CoalescedCalls((primitive, key, argv) =>
            this.script(manyName(primitive.name), (primitive.many as NonNullable<typeof primitive.many>).lua)(
              key,
              ...argv,
            ),
          );
        }
      }
    }
    if (this.get === RedisBackend.prototype.get) {
      const reads = this.reads;
      this.readWith = reads
        ? (key, reader) => reads.read(key, reader)
        : (key, reader) =>
            this.client.get(key).then(
              (raw) => reader.value(key, raw ?? undefined),
              (error: unknown) => reader.failed(key, error),
            );
    }
    if (this.client instanceof Redis) failUnansweredOnClose(this.client);
    else this.client.on('+node', (node: Redis) => failUnansweredOnClose(node));
    defineTagScripts(this.client);
    // ioredis auto-pipelines (single server; Cluster sends commands one by one) copy the client's script commands when
    // they are opened: a command defined after one was opened (say, on first use, in the same tick as another command)
    // cannot be queued there and throws. The library's own primitives are defined up front, before any pipeline exists.
    for (const primitive of BUILTIN_PRIMITIVES) {
      this.script(primitive.name, primitive.lua);
      if (primitive.many) this.script(manyName(primitive.name), primitive.many.lua);
    }
    // Failures surface on the commands; an unhandled 'error' event would crash the process.
    this.client.on('error', () => undefined);
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
    let connected = false;
    refuseFailedSelect(
      redis,
      (error) => {
        if (connected && !this.selectError) {
          this.logger.warn(
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
        ...serverAddress(config),
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

  /**
   * Ends the connection gracefully: `QUIT` lets the replies of commands in flight arrive first. A server that does
   * not answer it (frozen, or a silent network path) is waited for at most `command_timeout` (1 s when that is 0),
   * then the connection is dropped, so `close()` (and Nest's `app.close()`) always returns.
   */
  async close(): Promise<void> {
    this.reads?.flush();
    this.calls?.flush();
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
    if (this.client.status === 'ready') await this.quitGracefully();
    this.client.disconnect();
    if (hasSocket) await ended;
    clearTimeout(timer);
  }

  /** `QUIT`, bounded by {@link quitTimeout}; a refusal means the connection is gone already (disconnect follows). */
  private async quitGracefully(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const answered = this.client.quit().then(
      () => true,
      () => true,
    );
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.quitTimeout);
    });
    const quit = await Promise.race([answered, late]);
    clearTimeout(timer);
    if (!quit) {
      this.logger.warn(
        `Redis did not answer QUIT within ${this.quitTimeout} ms while closing; dropping the connection ` +
          `(commands still awaiting a reply fail).`,
      );
    }
  }

  /**
   * Every write comes here: with `wait_replicas` it answers once that many replicas hold it (see
   * {@link ReplicaWait}); otherwise it is the write itself.
   */
  protected written<T>(write: () => Promise<T>): Promise<T> {
    // Reads and coalesced calls issued before this write reach the server before it.
    this.reads?.flush();
    this.calls?.flush();
    return this.replicaWait ? this.replicaWait.confirm(write) : write();
  }

  /** Not `async`: an extra async frame costs a promise hop on the hit path. */
  get(key: string): Promise<unknown> {
    return this.reads ? this.reads.read(key, RAW_READER) : this.client.get(key).then(orUndefined);
  }

  async getMany(keys: readonly string[]): Promise<unknown[]> {
    if (keys.length === 0) return [];
    const values = await this.client.mget(...keys);
    return values.map((value) => value ?? undefined);
  }

  /**
   * `SET` in a script that also keeps a key that has tags in them for as long as it now lives (its index entries
   * and tag list follow the new TTL: see lib/tags/redis-tag-scripts.ts); a key without tags costs one `EXISTS`
   * more, on the server.
   */
  async set(key: string, raw: unknown, options: { ttl?: number; exist?: boolean } = {}): Promise<boolean> {
    const reply = await this.written(() =>
      this.tagScripts.cashewsSet(key, tagsOfKey(key), raw as string, options.ttl ?? 0, existFlag(options)),
    );
    return reply === 1;
  }

  /**
   * One script, atomic as a MULTI would be, but sent like every other write: through ioredis's auto-pipeline, behind
   * the commands issued before it. A MULTI is written to the socket at once and overtook writes still queued there.
   * Keys that have tags stay in them as long as they now live, as with {@link set}.
   */
  async setMany(entries: ReadonlyArray<readonly [string, unknown]>, ttl?: number): Promise<void> {
    if (entries.length === 0) return;
    const keys = entries.map(([key]) => key);
    const values = entries.map(([, raw]) => raw as string);
    await this.written(() => this.tagScripts.cashewsSetMany(keys.length, ...keys, ttl ?? 0, TAGS_OF_PREFIX, ...values));
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

  /**
   * Reserved storage (protection state and tag storage, see lib/keys/protected-keys.ts) is left out unless `pattern`
   * names the protection namespace.
   */
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
          if (skipProtected && isReservedKey(key)) continue;
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
    return this.written(() => this.tagScripts.cashewsDeleteTagged(keys.length, ...keys, TAGS_OF_PREFIX));
  }

  /** `PEXPIRE` in a script that moves the key's tag entries to its new expiry, as {@link set} does. */
  async expire(key: string, ttl: number): Promise<boolean> {
    return (await this.written(() => this.tagScripts.cashewsExpire(key, tagsOfKey(key), ttl))) === 1;
  }

  /**
   * Not `async`: a detected hit asks it with its value, and an async frame would add a promise and two hops. On a
   * single server it leaves with the tick's read batch, in the same socket write as the value's `GET`.
   */
  getExpire(key: string): Promise<number> {
    return this.reads ? this.reads.expire(key) : this.client.pttl(key);
  }

  async exists(key: string): Promise<boolean> {
    return (await this.client.exists(key)) === 1;
  }

  async ping(message?: string): Promise<string> {
    return message === undefined ? this.client.ping() : this.client.ping(message);
  }

  async clear(): Promise<void> {
    await this.written(() => Promise.all(this.nodes().map((node) => node.flushdb())));
  }

  /**
   * `DBSIZE` of every node that holds data, less the library's reserved keys (protection state, tag indexes, tag
   * lists) found by a `SCAN MATCH cashews:*` of each node, 1000 keys a step: O(keys in the database) on the
   * server, but only the reserved keys travel. A snapshot for monitoring, not a transaction: keys written or
   * expiring meanwhile may be miscounted, and `DBSIZE` still counts expired keys Redis has not reclaimed yet.
   */
  async countKeys(): Promise<number> {
    const counts = await Promise.all(
      this.nodes().map(async (node) => {
        const total = await node.dbsize();
        // Every reserved prefix starts with "cashews:"; SCAN may repeat a key.
        const reserved = new Set<string>();
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', 'cashews:*', 'COUNT', 1000);
          cursor = next;
          for (const key of keys) if (isProtectedKey(key) || isTagKey(key)) reserved.add(key);
        } while (cursor !== '0');
        return Math.max(0, total - reserved.size);
      }),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  /**
   * Runs the primitive's script, defined on the client as `cashews_<name>` the first time it runs (ioredis then
   * sends it by its SHA, and loads it again on a server that lost it). A Redis error the primitive explains
   * becomes the primitive's own error (a usage error: a counter that holds no integer); any other is a backend
   * failure.
   */
  run<A extends readonly unknown[], R>(primitive: Primitive<A, R>, key: string, ...args: A): Promise<R> {
    // Same-key calls of this tick leave as one script call (a rate-limit window: see CoalescedCalls).
    const many = primitive.many;
    if (many !== undefined && this.calls !== undefined && (many.when?.(...args) ?? true)) {
      return this.calls.add(primitive, key, args);
    }
    // Not `async`, one `then` for the reply and its failure: this is every rate-limited, locked or counted call.
    let sent: Promise<unknown>;
    try {
      const command = this.script(primitive.name, primitive.lua);
      const argv = primitive.redisArgs(...args);
      // A script may write: the reads and coalesced calls issued before it leave first (as in written()).
      this.reads?.flush();
      this.calls?.flush();
      sent = this.replicaWait ? this.written(() => command(key, ...argv)) : command(key, ...argv);
    } catch (error) {
      sent = Promise.reject(error);
    }
    return sent.then(
      (reply) => primitive.fromRedis(reply, ...args),
      (error: unknown) => {
        throw primitiveFailure(primitive, error, key);
      },
    );
  }

  private script(primitiveName: string, lua: string): ScriptCommand {
    const known = this.scripts.get(primitiveName);
    if (known?.lua === lua) return known.command;
    if (known) {
      // The command of that name runs the other script: running it would silently do something else.
      throw new CashewsConfigError(
        `Two primitives are named "${primitiveName}" with different scripts; give each primitive a unique name ` +
          `(definePrimitive({ name: ... })).`,
      );
    }
    const name = `cashews_${primitiveName}`;
    this.client.defineCommand(name, { numberOfKeys: 1, lua });
    const command = (this.client as unknown as Record<string, ScriptCommand>)[name].bind(this.client);
    this.scripts.set(primitiveName, { lua, command });
    return command;
  }

  // --- Transactions ------------------------------------------------------------------------------------------
  /**
   * One `MULTI`/`EXEC`: Redis applies every write or none (a connection lost before `EXEC` discards them all). The
   * scripts (tags, counters) are queued as `EVAL` with their source, not by SHA: a server that lost its script cache
   * (a restart, `SCRIPT FLUSH`) would otherwise fail those commands alone inside the `EXEC` and apply the rest. As
   * in any `EXEC`, a command that fails at run time (an increment of a value that is no integer, written by someone
   * else since the transaction read it) fails alone; that failure is thrown after the others are applied.
   */
  async commit(writes: readonly BatchWrite[]): Promise<void> {
    const multi = this.client.multi() as unknown as Record<string, (...args: Array<string | number>) => unknown> & {
      exec(): Promise<Array<[Error | null, unknown]> | null>;
    };
    for (const write of writes) {
      if (write.op === 'set') {
        if (write.tags?.length) {
          const keys = setTaggedKeys(write.key, write.tags);
          multi.eval(SET_TAGGED_SCRIPT, keys.length, ...keys, ...setTaggedArgs(write.raw, write));
        } else this.queueSet(multi, write);
      } else if (write.op === 'delete') {
        this.queueDelete(multi, write.key);
      } else if (write.op === 'incr') {
        multi.eval(incrPrimitive.lua, 1, write.key, ...incrPrimitive.redisArgs(write.by, write.ttl));
      } else {
        this.queueExpire(multi, write.key, write.ttl);
      }
    }
    // ioredis writes a MULTI to the socket at once: it waits until the writes queued in the auto-pipeline before it
    // (on Cluster, for the node of its slot) are answered, or it would overtake them (and a read flushed just before).
    const replies = await this.written(() => {
      const turn = writes.length ? autoPipelineTurn(this.client, writes[0].key) : undefined;
      return turn ? turn.then(() => multi.exec()) : multi.exec();
    });
    if (!replies) throw new Error('The transaction was aborted by the server (EXEC answered nothing).');
    await this.afterCommit(writes, replies);
    const index = replies.findIndex(([error]) => error);
    if (index === -1) return;
    const error = replies[index][0] as Error;
    throw (
      incrPrimitive.redisError?.(error, writes[index].key) ??
      new Error(
        `write ${index + 1} of ${writes.length} of the commit (${writes[index].op} "${writes[index].key}") failed ` +
          `inside EXEC, the others were applied: ${error.message}`,
        { cause: error },
      )
    );
  }

  /** Queues a write without tags in a commit: the `SET`, keeping the key in the tags it has (as {@link set}). */
  protected queueSet(
    multi: Record<string, (...args: Array<string | number>) => unknown>,
    write: Extract<BatchWrite, { op: 'set' }>,
  ): void {
    multi.eval(SET_KEEPING_TAGS_SCRIPT, 2, write.key, tagsOfKey(write.key), ...setTaggedArgs(write.raw, write));
  }

  /** Queues a new TTL in a commit, moving the key's tag entries with it (as {@link expire}). */
  protected queueExpire(
    multi: Record<string, (...args: Array<string | number>) => unknown>,
    key: string,
    ttl: number,
  ): void {
    multi.eval(EXPIRE_KEEPING_TAGS_SCRIPT, 2, key, tagsOfKey(key), ttl);
  }

  /** Queues the removal of a key in a commit: the key and its place in its tags' indexes, in one script. */
  protected queueDelete(multi: Record<string, (...args: Array<string | number>) => unknown>, key: string): void {
    multi.eval(DELETE_TAGGED_SCRIPT, 1, key, TAGS_OF_PREFIX);
  }

  /** What a commit leaves to do once `EXEC` answered, with each write's reply (nothing on one server). */
  protected async afterCommit(
    _writes: readonly BatchWrite[],
    _replies: ReadonlyArray<[Error | null, unknown]>,
  ): Promise<void> {}

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
    const keys = setTaggedKeys(key, tags);
    const stored = await this.written(() =>
      this.tagScripts.cashewsSetTagged(keys.length, ...keys, ...setTaggedArgs(raw, options)),
    );
    return stored === 1;
  }

  /**
   * Pops members of each index in batches (`ZPOPMIN`, so a key re-tagged meanwhile is either popped or
   * stays indexed, never lost) and unlinks them, taking them out of their other tags' indexes too. Bounded by the index size seen at the start, so writers
   * tagging new keys meanwhile cannot keep it looping. Expired members cost one pop each and count nothing.
   */
  async deleteTags(tags: readonly string[]): Promise<number> {
    // The index pops are writes too, confirmed with the whole operation.
    const counts = await this.written(() =>
      Promise.all(
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
      ),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }
}
