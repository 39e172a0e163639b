import type { CircuitOp, CircuitSettings, CircuitState, WindowState } from './protect-types.js';

/**
 * The storage contract every backend implements. Backends store opaque *raw* values produced by the
 * codec layer (a cloned JS value in memory, a string in Redis) and know nothing about serialization,
 * signing or safe mode: {@link CacheService} adds those once for all backends.
 *
 * `undefined` is the only "missing" answer; a codec never produces `undefined` as a raw value.
 * All TTLs are whole milliseconds; `undefined` TTL means "no expiry".
 */
export interface Backend {
  /** `memory`, `redis` or `cluster`: decides the codec (memory keeps live copies, Redis needs strings). */
  readonly kind: 'memory' | 'redis' | 'cluster' | 'disabled';
  /** Opens connections; resolves when the backend can answer commands. */
  connect(): Promise<void>;
  /** Closes connections and timers; idempotent. */
  close(): Promise<void>;

  get(key: string): Promise<unknown>;
  getMany(keys: readonly string[]): Promise<unknown[]>;
  /** `exist: true` only overwrites, `false` only creates; no TTL clears any previous one. */
  set(key: string, raw: unknown, options?: { ttl?: number; exist?: boolean }): Promise<boolean>;
  setMany(entries: ReadonlyArray<readonly [string, unknown]>, ttl?: number): Promise<void>;
  /** Atomically adds `by`; `ttl` applies only when this call creates the counter. */
  incr(key: string, by: number, ttl?: number): Promise<number>;
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
  /** Creates `key` holding `token` for `ttl` ms only if it does not exist. */
  setLock(key: string, token: string, ttl: number): Promise<boolean>;
  /** Deletes `key` only if it still holds `token`. */
  unlock(key: string, token: string): Promise<boolean>;

  /**
   * Fixed-window rate limit, atomically: counts one call in `key`'s window of `period` ms; the first call
   * over `limit` bans the key for `banTtl` ms (the window's expiry is moved to then).
   */
  fixedWindow(key: string, limit: number, period: number, banTtl: number): Promise<WindowState>;
  /**
   * Sliding-window rate limit, atomically: allows the call when fewer than `limit` calls were allowed in the
   * last `period` ms (rejected calls are not counted), and records it.
   */
  slidingWindow(key: string, limit: number, period: number): Promise<WindowState>;
  /** One atomic step of the circuit breaker stored at `key` (see {@link CircuitOp}). */
  circuit(key: string, op: CircuitOp, settings: CircuitSettings): Promise<CircuitState>;

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
}
