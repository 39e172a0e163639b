import { Redis, type Command } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { ResolvedCacheConfig } from '../config/cache-options.js';
import { CashewsConfigError } from '../errors.js';
import { MISS } from '../miss.js';
import { toRegExp } from '../keys/pattern.js';
import type { Primitive } from '../primitives/primitive.js';
import type { BatchWrite } from './batch-write.js';
import { failUnansweredOnClose } from './connection-guards.js';
import { RedisBackend, redisConnectionOptions } from './redis.backend.js';

/** Channel Redis publishes tracking invalidations on when a client redirects them (RESP2 form). */
const INVALIDATE_CHANNEL = '__redis__:invalidate';

/**
 * Commands that name keys but never modify them: sending one must not drop the local copy (the read path itself
 * sends GET + PTTL). Every other command with keys is treated as a write to those keys.
 */
const READ_ONLY = new Set([
  'get',
  'mget',
  'pttl',
  'ttl',
  'exists',
  'type',
  'strlen',
  'getrange',
  'substr',
  'scan',
  'keys',
  'dbsize',
  'object',
  'dump',
  'touch',
]);
const FLUSHES = new Set(['flushdb', 'flushall', 'swapdb']);

/** How often the invalidation connection is pinged; an unanswered ping bypasses the local layer and reconnects. */
const HEALTH_CHECK_MS = 1_000;

interface Entry {
  /** The string stored in Redis. */
  raw: string;
  /** The decoded value, memoized by the first {@link ClientSideBackend.readLocal}. */
  value?: unknown;
  decoded: boolean;
}

/** Reads of one key in flight, and how many invalidations of that key arrived since they were sent. */
interface Pending {
  refs: number;
  version: number;
}

/** Read by {@link ClientSideBackend.get} before sending, compared when the reply arrives. */
interface Ticket {
  epoch: number;
  version: number;
  sentAt: number;
}

/**
 * Redis (`redis://...?client_side=1`) with a local, size- and TTL-bounded LRU of values read, kept coherent by Redis
 * client tracking in its RESP2 form: a second connection subscribes to `__redis__:invalidate`, and the data
 * connection runs `CLIENT TRACKING ON REDIRECT <that connection's id>`. Redis then publishes the name of every key
 * this process read once any client modifies it (or `null` on a flush), and the local copy is dropped.
 *
 * Coherence rules:
 * - The local layer is used only while tracking is confirmed on the current pair of connections. Any status change
 *   of either connection flushes it and bypasses it until `CLIENT ID` / `SUBSCRIBE` / `CLIENT TRACKING` have been
 *   re-run on the new connections ({@link establish}); a ping on the invalidation connection detects a silent one.
 * - A GET reply and an invalidation of the same key can cross: a reply is stored only when no invalidation of that
 *   key ({@link Pending.version}) and no flush ({@link epoch}) happened between sending the GET and its reply.
 * - Writes by this process drop the local copy when the write is *called* (each write method: {@link set},
 *   {@link delete}, {@link run}…; `deleteMatch` the local keys its pattern matches, `deleteTags` everything, since
 *   which keys a tag holds is known only to Redis), so a read made right after, in the same turn, reads the write
 *   and not the local copy: the write leaves in ioredis's auto-pipeline only at the end of the turn, ahead of that
 *   read. They count as an invalidation for reads in flight, whose replies are then not kept. Again when *sent* (any
 *   command with keys outside {@link READ_ONLY}, seen by wrapping `sendCommand`, so commands added later are
 *   covered too). Redis also sends its own invalidation, which is then a no-op.
 * - Local entries expire after the key's remaining Redis TTL measured by the same read (PTTL next to GET), counted
 *   from when the read was sent, so a value is never served past its Redis expiry.
 * @example
 * ```ts
 * const cache = await createCache('redis://127.0.0.1:6379/0', { clientSide: true });
 * console.log(cache.backend instanceof ClientSideBackend); // true: reads are served locally while tracked
 * ```
 */
export class ClientSideBackend extends RedisBackend {
  /** The connection that receives invalidations (its id is the tracking `REDIRECT` target). */
  readonly subscriber: Redis;
  private readonly local: LRUCache<string, Entry>;
  private readonly pending = new Map<string, Pending>();
  /** Bumped on every flush of the local layer; reads sent in an older epoch are not stored. */
  private epoch = 0;
  private tracking = false;
  private attempt = 0;
  private subscription?: Promise<number>;
  private subscriberId?: number;
  private health?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;
  private closing = false;
  private warned = false;
  /** How long the health ping on the invalidation connection waits for its answer (`command_timeout`, else 1 s). */
  private readonly pingTimeout: number;

  constructor(config: ResolvedCacheConfig) {
    super(config);
    this.local = new LRUCache<string, Entry>({ max: config.clientSideSize, allowStale: false, updateAgeOnGet: false });
    const { commandTimeout, ...options } = redisConnectionOptions(config);
    this.pingTimeout = commandTimeout ?? HEALTH_CHECK_MS;
    this.subscriber = new Redis({
      ...options,
      ...config.nodes[0],
      commandTimeout: this.pingTimeout,
      // Re-subscribing is ours to do: CLIENT ID must run first, and it is refused once subscribed.
      autoResubscribe: false,
      connectionName: 'cashews:invalidations',
    });
    this.subscriber.on('error', () => undefined);
    failUnansweredOnClose(this.subscriber);
    this.subscriber.on('messageBuffer', (channel: Buffer, payload: unknown) => {
      if (channel.toString() === INVALIDATE_CHANNEL) this.invalidated(payload);
    });

    const data = this.client as Redis;
    for (const connection of [data, this.subscriber]) {
      // 'close' fires as soon as the socket is gone, before any reconnect attempt: stop trusting local copies now.
      connection.on('close', () => {
        if (connection === this.subscriber) this.subscription = this.subscriberId = undefined;
        this.bypass();
      });
      connection.on('ready', () => void this.establish());
      // ioredis reports 'close' only once the socket handle is closed, at the end of the event loop iteration:
      // replies read in the same iteration (say, of a write made after the server dropped us) would still see
      // local copies. The socket's own 'end' (EOF) is emitted before the next socket is read.
      connection.on('connect', () => {
        connection.stream.once('end', () => this.bypass());
        connection.stream.once('error', () => this.bypass());
      });
    }
    this.watchWrites(data);
  }

  /** Whether the local layer is in use (tracking confirmed on the current connections). */
  get trackingActive(): boolean {
    return this.tracking;
  }

  /** Client id of the invalidation connection (the `REDIRECT` target), once subscribed. */
  get invalidationClientId(): number | undefined {
    return this.subscriberId;
  }

  /**
   * The longest a silently stalled invalidation connection (no FIN, no RST: a frozen network path or peer) can
   * serve stale local reads: a stall right after a health ping answered is noticed by the next ping, sent a
   * ping interval (1 s) later, once it has waited its timeout (`command_timeout`, else 1 s) in vain. Then the
   * local layer is flushed and bypassed. The README states this bound; the client-side fault test pins it.
   */
  get staleReadBoundMs(): number {
    return HEALTH_CHECK_MS + this.pingTimeout;
  }

  /** Number of locally held entries. */
  get localSize(): number {
    return this.local.size;
  }

  /**
   * Connects the data connection, then the invalidation connection. Neither failure leaves client-side caching off
   * for good: ioredis retries a connection once it was started (never a lazy one that never was), each 'ready' runs
   * {@link establish}, and the health ping that bounds stale reads is armed before anything can fail. Until tracking
   * is confirmed the local layer is empty and unused: every read goes to Redis.
   */
  override async connect(): Promise<void> {
    this.closing = false;
    this.health ??= setInterval(() => void this.checkHealth(), HEALTH_CHECK_MS);
    this.health.unref();
    try {
      await super.connect();
    } catch (error) {
      // Redis unreachable at start-up (safe mode carries on, reading from Redis once it is back): start the
      // invalidation connection too, so that it retries alongside and tracking comes on once both are ready. Its
      // failure is the same outage, reported by the caller of connect() with this error.
      if (!(error instanceof CashewsConfigError)) this.startSubscriber(() => undefined);
      throw error;
    }
    // Redis answers but the invalidation connection failed (refused, dropped during its handshake): the cache
    // works, reading from Redis without the local layer until ioredis has reconnected it.
    await this.startSubscriber((error) =>
      this.logger.warn(
        `client_side: the invalidation connection failed to connect (${error.message}); ` +
          `reading from Redis without the local layer until it connects (retrying).`,
      ),
    );
    // Both 'ready' handlers have started establish(); wait for the one that sees both connections ready.
    await this.establish();
  }

  /** Starts the (lazy) invalidation connection unless it was started already; `failed` gets its first failure. */
  private async startSubscriber(failed: (error: Error) => void): Promise<void> {
    if (this.closing || this.subscriber.status !== 'wait') return;
    try {
      await this.subscriber.connect();
    } catch (error) {
      if (!this.closing) failed(error as Error);
    }
  }

  override async close(): Promise<void> {
    this.closing = true;
    if (this.health) clearInterval(this.health);
    if (this.retry) clearTimeout(this.retry);
    this.health = this.retry = undefined;
    this.bypass();
    await super.close();
    if (this.subscriber.status !== 'end') {
      const ended = new Promise<void>((resolve) => {
        this.subscriber.once('end', () => resolve());
        setTimeout(resolve, 1_000).unref();
      });
      this.subscriber.disconnect();
      await ended;
    }
  }

  /**
   * Fast path for {@link CacheService}: the decoded value of a local entry, or {@link MISS} when there is none.
   * The value is decoded once per entry (by `decode`, the service's codec) and shared by every later hit.
   */
  readLocal(key: string, decode: (key: string, raw: unknown) => unknown): unknown {
    const entry = this.local.get(key);
    if (entry === undefined) return MISS;
    if (!entry.decoded) {
      const value = decode(key, entry.raw);
      if (value === MISS) return MISS;
      entry.value = value;
      entry.decoded = true;
    }
    return entry.value;
  }

  override async get(key: string): Promise<unknown> {
    const entry = this.local.get(key);
    if (entry !== undefined) return entry.raw;
    if (!this.tracking) return super.get(key);
    const ticket = this.begin(key);
    try {
      const [raw, pttl] = await Promise.all([this.client.get(key), this.client.pttl(key)]);
      if (raw !== null) this.store(key, raw, pttl, ticket);
      return raw ?? undefined;
    } finally {
      this.end(key);
    }
  }

  override async getMany(keys: readonly string[]): Promise<unknown[]> {
    const values: unknown[] = keys.map((key) => this.local.get(key)?.raw);
    const missing = [...new Set(keys.filter((_, i) => values[i] === undefined))];
    if (missing.length === 0) return values;
    // Misses go to Redis in one MGET; they are not stored locally (only single-key reads measure the TTL).
    const fetched = await super.getMany(missing);
    const byKey = new Map(missing.map((key, i) => [key, fetched[i]]));
    return values.map((value, i) => (value === undefined ? byKey.get(keys[i]) : value));
  }

  // --- Writes: the local copy goes when the write is called (see the class comment) ---------------------------
  override set(key: string, raw: unknown, options?: { ttl?: number; exist?: boolean }): Promise<boolean> {
    this.invalidate(key);
    return super.set(key, raw, options);
  }

  override setTagged(
    key: string,
    raw: unknown,
    tags: readonly string[],
    options?: { ttl?: number; exist?: boolean },
  ): Promise<boolean> {
    this.invalidate(key);
    return super.setTagged(key, raw, tags, options);
  }

  override setMany(entries: ReadonlyArray<readonly [string, unknown]>, ttl?: number): Promise<void> {
    for (const [key] of entries) this.invalidate(key);
    return super.setMany(entries, ttl);
  }

  override delete(key: string): Promise<boolean> {
    this.invalidate(key);
    return super.delete(key);
  }

  override deleteMany(keys: readonly string[]): Promise<number> {
    for (const key of keys) this.invalidate(key);
    return super.deleteMany(keys);
  }

  /** The local keys (and reads in flight) the pattern matches go now; the keys Redis finds, again when unlinked. */
  override deleteMatch(pattern: string): Promise<number> {
    const matches = toRegExp(pattern);
    for (const key of [...this.local.keys(), ...this.pending.keys()]) if (matches.test(key)) this.invalidate(key);
    return super.deleteMatch(pattern);
  }

  /** Only Redis knows the keys of a tag: the whole local layer goes (reads in flight are not kept either). */
  override deleteTags(tags: readonly string[]): Promise<number> {
    this.flush();
    return super.deleteTags(tags);
  }

  override expire(key: string, ttl: number): Promise<boolean> {
    this.invalidate(key);
    return super.expire(key, ttl);
  }

  /** A primitive may write its key (a counter, a bitmap): its local copy goes, as for any write. */
  override run<A extends readonly unknown[], R>(primitive: Primitive<A, R>, key: string, ...args: A): Promise<R> {
    this.invalidate(key);
    return super.run(primitive, key, ...args);
  }

  override commit(writes: readonly BatchWrite[]): Promise<void> {
    for (const write of writes) this.invalidate(write.key);
    return super.commit(writes);
  }

  override clear(): Promise<void> {
    this.flush();
    return super.clear();
  }

  /** Drops local copies of the keys of every command that may modify them, at the moment it is sent. */
  private watchWrites(client: Redis): void {
    const send = client.sendCommand.bind(client) as (command: Command, ...rest: unknown[]) => unknown;
    (client as { sendCommand: (command: Command, ...rest: unknown[]) => unknown }).sendCommand = (command, ...rest) => {
      const name = command.name.toLowerCase();
      if (FLUSHES.has(name)) this.flush();
      else if (!READ_ONLY.has(name)) for (const key of command.getKeys()) this.invalidate(String(key));
      return send(command, ...rest);
    };
  }

  private begin(key: string): Ticket {
    let pending = this.pending.get(key);
    if (!pending) {
      pending = { refs: 0, version: 0 };
      this.pending.set(key, pending);
    }
    pending.refs++;
    return { epoch: this.epoch, version: pending.version, sentAt: performance.now() };
  }

  private end(key: string): void {
    const pending = this.pending.get(key);
    if (pending && --pending.refs <= 0) this.pending.delete(key);
  }

  private store(key: string, raw: string, pttl: number, ticket: Ticket): void {
    if (!this.tracking || ticket.epoch !== this.epoch || this.pending.get(key)?.version !== ticket.version) return;
    if (pttl === -2) return; // expired or deleted between GET and PTTL
    let ttl = 0;
    if (pttl >= 0) {
      ttl = Math.floor(pttl - (performance.now() - ticket.sentAt));
      if (ttl <= 0) return;
    }
    this.local.set(key, { raw, decoded: false }, { ttl });
  }

  private invalidate(key: string): void {
    this.local.delete(key);
    const pending = this.pending.get(key);
    if (pending) pending.version++;
  }

  private flush(): void {
    this.epoch++;
    this.local.clear();
  }

  /** One `__redis__:invalidate` message: an array of key names, or `null` meaning "everything". */
  private invalidated(payload: unknown): void {
    if (!Array.isArray(payload)) {
      this.flush();
      return;
    }
    for (const key of payload) this.invalidate(String(key));
  }

  /** Stops using the local layer until {@link establish} confirms tracking again. */
  private bypass(): void {
    this.tracking = false;
    this.attempt++;
    this.flush();
  }

  /**
   * (Re-)establishes tracking on the current connections: `CLIENT ID` and `SUBSCRIBE` on the invalidation
   * connection (once per connection), then `CLIENT TRACKING ON REDIRECT <id>` on the data connection. Runs on every
   * 'ready' of either connection; a run overtaken by a newer one or by a status change gives up.
   */
  private async establish(): Promise<void> {
    this.bypass();
    const attempt = this.attempt;
    const data = this.client as Redis;
    if (this.closing || data.status !== 'ready' || this.subscriber.status !== 'ready') return;
    try {
      this.subscription ??= this.subscribe();
      const id = await this.subscription;
      if (attempt !== this.attempt) return;
      await data.client('TRACKING', 'ON', 'REDIRECT', id);
      if (attempt !== this.attempt || data.status !== 'ready' || this.subscriber.status !== 'ready') return;
      this.subscriberId = id;
      this.flush();
      this.tracking = true;
    } catch (error) {
      if (attempt !== this.attempt || this.closing) return;
      if (!this.warned) {
        this.warned = true;
        this.logger.warn(
          `client_side: cannot enable Redis client tracking (${(error as Error).message}); ` +
            `reading from Redis without the local layer and retrying.`,
        );
      }
      this.retry = setTimeout(() => void this.establish(), 500);
      this.retry.unref();
    }
  }

  /** Once per invalidation connection: its id, then SUBSCRIBE (after which CLIENT ID would be refused). */
  private async subscribe(): Promise<number> {
    try {
      const id = Number(await this.subscriber.client('ID'));
      await this.subscriber.subscribe(INVALIDATE_CHANNEL);
      return id;
    } catch (error) {
      this.subscription = undefined;
      throw error;
    }
  }

  /** A ping through the invalidation connection; no answer within the command timeout means it cannot be trusted. */
  private async checkHealth(): Promise<void> {
    if (!this.tracking || this.closing) return;
    try {
      await this.subscriber.ping();
    } catch (error) {
      if (this.closing || !this.tracking) return;
      this.bypass();
      this.logger.warn(
        `client_side: the invalidation connection did not answer a ping (${(error as Error).message}); ` +
          `reading from Redis without the local layer and reconnecting it.`,
      );
      this.subscriber.disconnect(true);
    }
  }
}
