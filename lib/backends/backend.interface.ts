import type { Primitive } from '../primitives/primitive.js';
import type { BackendCounters } from '../stats/backend-counters.js';
import type { BatchWrite } from './batch-write.js';
import type { RawReader } from './raw-reader.js';

/**
 * The storage contract every backend implements. Backends store opaque *raw* values produced by the
 * codec layer (a cloned JS value in memory, a string in Redis) and know nothing about serialization,
 * signing or safe mode: {@link CacheService} adds those once for all backends.
 *
 * `undefined` is the only "missing" answer; a codec never produces `undefined` as a raw value.
 * All TTLs are whole milliseconds; `undefined` TTL means "no expiry".
 *
 * The contract is key-value storage (get/set/delete/expire/scan and tags) plus one entry point for atomic
 * primitives ({@link run}); the optional members are capabilities a backend may have, which the engine uses
 * when present.
 */
export interface Backend {
  /**
   * What the backend is: decides the codec (memory keeps live copies, Redis needs strings). A backend of your own
   * (see `registerBackend`) is `custom` and says what it can hold with {@link stores}.
   */
  readonly kind: 'memory' | 'redis' | 'cluster' | 'disabled' | 'custom';
  /**
   * `custom` backends only: `'strings'` (the default) when values must reach it as strings (anything sent over a
   * network or written to disk: the instance then uses the string codec, which can sign and compress), `'values'`
   * when it keeps the JS values it is given in this process, as `mem://` does (the instance then stores live
   * copies, and refuses `compress`). Ignored for the built-in kinds.
   */
  readonly stores?: 'strings' | 'values';
  /** Opens connections; resolves when the backend can answer commands. */
  connect(): Promise<void>;
  /** Closes connections and timers; idempotent. */
  close(): Promise<void>;

  get(key: string): Promise<unknown>;
  getMany(keys: readonly string[]): Promise<unknown[]>;
  /** `exist: true` only overwrites, `false` only creates; no TTL clears any previous one. */
  set(key: string, raw: unknown, options?: { ttl?: number; exist?: boolean }): Promise<boolean>;
  setMany(entries: ReadonlyArray<readonly [string, unknown]>, ttl?: number): Promise<void>;
  /** Removes keys, and removes them from their tag indexes (an index never outlives its keys). */
  delete(key: string): Promise<boolean>;
  deleteMany(keys: readonly string[]): Promise<number>;
  /**
   * Keys matching a pattern where only `*` is a wildcard. Protection state (`cashews:protect:`, see
   * lib/keys/protected-keys.ts) is left out unless the pattern starts with that prefix; `deleteMatch` likewise.
   */
  scan(pattern: string): AsyncIterable<string>;
  deleteMatch(pattern: string): Promise<number>;
  expire(key: string, ttl: number): Promise<boolean>;
  /** Milliseconds left, -1 when the key has no expiry, -2 when it is missing. */
  getExpire(key: string): Promise<number>;
  exists(key: string): Promise<boolean>;
  ping(message?: string): Promise<string>;
  clear(): Promise<void>;
  /**
   * Runs an atomic primitive on `key` (counters, locks, rate-limit windows, circuits: see lib/primitives/). A
   * backend routes it by `key` like any keyed command and needs to know nothing else about it.
   *
   * Every primitive must be atomic for every process sharing the storage: Redis-compatible servers run its `lua`,
   * a store living in this process only may run its `memory` code (atomic between two awaits). A backend that
   * cannot do either for some primitive rejects with `UnsupportedPrimitiveError`: the engine passes that error on
   * (safe mode included) instead of answering something made up.
   */
  run<A extends readonly unknown[], R>(primitive: Primitive<A, R>, key: string, ...args: A): Promise<R>;

  // --- Tags (invalidation by tag; see lib/tags/) ---------------------------------------------------------
  /**
   * Like {@link set}, and records `key` in the index of every tag (on one Redis server in the same atomic
   * step). Nothing is indexed when `exist` prevented the write. Indexes drop members as they expire.
   */
  setTagged(
    key: string,
    raw: unknown,
    tags: readonly string[],
    options?: { ttl?: number; exist?: boolean },
  ): Promise<boolean>;
  /**
   * Deletes every key recorded under any of `tags`, and the indexes themselves, without scanning the
   * keyspace: the cost is proportional to the keys removed. Answers how many keys existed and were removed.
   */
  deleteTags(tags: readonly string[]): Promise<number>;

  // --- Optional capabilities ------------------------------------------------------------------------------
  /** A synchronous read (memory): a hit then costs no promise of the backend's own. */
  getSync?(key: string): unknown;
  /**
   * {@link get}, answered through `reader` where the reply arrives: the read settles with what the reader makes of
   * the raw value (or of the failure), without a promise of the backend's own in between (see {@link RawReader}).
   */
  readWith?<T>(key: string, reader: RawReader<T>): Promise<T>;
  /** {@link getExpire} answered synchronously (memory): reporting a hit's remaining TTL then costs no promise. */
  getExpireSync?(key: string): number;
  /**
   * A read from an in-process layer of values already decoded (`client_side`): the value, or `MISS` when the
   * layer does not hold `key` (the caller then goes on to {@link get}).
   */
  readLocal?(key: string, decode: (key: string, raw: unknown) => unknown): unknown;
  /**
   * Usage counters kept by the backend itself, one entry per backend it routes to (the prefix router): the
   * engine then reports these instead of wrapping the backend in a counting one.
   */
  usage?(): ReadonlyArray<{ readonly prefix: string; readonly counters: BackendCounters }>;
  /**
   * How many cache keys the backend holds, protection state and tag indexes left out, counted cheaper than by a
   * scan (memory: exactly; Redis: `DBSIZE` less its reserved keys). Without it the engine counts what `scan('*')`
   * yields (see lib/backends/count-keys.ts), which is also how the prefix router counts the keys each route owns.
   */
  countKeys?(): Promise<number>;
  /**
   * Applies a transaction's writes all or nothing (memory: in one synchronous step; Redis: one `MULTI`/`EXEC`).
   * Without it a commit applies them one by one (see lib/transactions/batch-write.ts), which is not atomic.
   */
  commit?(writes: readonly BatchWrite[]): Promise<void>;
}
