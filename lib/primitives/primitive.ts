/**
 * An atomic primitive: one operation on one key that must not interleave with another process's (a counter,
 * a lock, a rate-limit window, a circuit). Each primitive is one module holding both implementations side by
 * side: a Lua script for Redis (single key, so it runs unchanged on Cluster) and synchronous code for memory
 * (atomic because nothing else runs in this process between two awaits). Backends run every primitive through
 * one entry point, {@link Backend.run}, and route it by its key without knowing what it does; adding a
 * primitive is adding one file.
 *
 * @example
 * ```ts
 * // A counter that never goes below zero.
 * const decrFloor = definePrimitive<[by: number], number>({
 *   name: 'decrFloor',
 *   lua: `local v = math.max(0, (tonumber(redis.call('GET', KEYS[1])) or 0) - tonumber(ARGV[1]))
 * redis.call('SET', KEYS[1], v, 'KEEPTTL')
 * return v`,
 *   redisArgs: (by) => [by],
 *   fromRedis: (reply) => Number(reply),
 *   memory: (entries, key, by) => {
 *     const left = entries.ttlLeft(key);
 *     const value = Math.max(0, Number(entries.get(key) ?? 0) - by);
 *     entries.set(key, value, left === undefined || left === Infinity ? undefined : left);
 *     return value;
 *   },
 *   off: () => 0,
 * });
 * const cache = await createCache('mem://');
 * console.log(await cache.backend.run(decrFloor, 'stock:42', 1)); // 0
 * ```
 */
export interface Primitive<A extends readonly unknown[], R> {
  /** Unique among primitives: the Redis command is registered as `cashews_<name>`. */
  readonly name: string;
  /** The Redis implementation: `KEYS[1]` is the key, `ARGV` what {@link redisArgs} returns. */
  readonly lua: string;
  /** The script's `ARGV` for a call. */
  redisArgs(...args: A): Array<string | number>;
  /** Turns the script's reply into the answer. */
  fromRedis(reply: unknown, ...args: A): R;
  /**
   * A Redis error the primitive can explain (e.g. "not an integer"): answers the error to throw instead, or
   * `undefined` to let the original through as a backend failure.
   */
  redisError?(error: Error, key: string): Error | undefined;
  /** The memory implementation, synchronous. Values it stores are its own (see {@link MemoryEntries}). */
  memory(entries: MemoryEntries, key: string, ...args: A): R;
  /**
   * Optional: the same operation for `n` calls of one key with the same arguments, run one after another in one script
   * call. Redis only, on a single server: calls issued in the same tick are then sent together (see `CoalescedCalls`),
   * which costs the server one script call instead of `n`. `ARGV[1]` is `n`, the rest what {@link redisArgs} returns;
   * {@link fromRedis} of the reply answers the `index`-th call (from 0) exactly as its own call would have been
   * answered had the calls run alone, in that order. Arguments must be numbers or strings.
   */
  readonly many?: {
    readonly lua: string;
    fromRedis(reply: unknown, index: number, ...args: A): R;
    /** Whether calls with these arguments may be coalesced (default: always); the others run one script each. */
    when?(...args: A): boolean;
  };
  /**
   * The answer when the primitive is switched off (`cache.disable('limit')`, `enable=0`): what lets the
   * decorated method run (a window that allows, a closed circuit, a lock granted).
   */
  off(...args: A): R;
}

/**
 * What a primitive's memory code works on: the entries of a `MemoryBackend`, read and written synchronously.
 * Raw values may be any non-nullish JS value; primitives store class instances of their own and tell them
 * apart from cached values by class.
 */
export interface MemoryEntries {
  /** The raw value at `key`; `undefined` when missing or expired. */
  get(key: string): unknown;
  /** Stores `raw` at `key` for `ttl` ms (`undefined`: no expiry), replacing any previous TTL. */
  set(key: string, raw: NonNullable<unknown>, ttl?: number): void;
  /** Removes `key`; answers whether it existed. */
  delete(key: string): boolean;
  /** Milliseconds `key` has left: `Infinity` without expiry, `undefined` when missing. */
  ttlLeft(key: string): number | undefined;
  /** Wall-clock milliseconds, what windows and circuits measure with (Redis scripts use the server's `TIME`). */
  now(): number;
}

/**
 * Declares a primitive (frozen: a primitive is a value shared by every backend). See {@link Primitive}.
 * @example
 * ```ts
 * // Remembers the first value written to a key; later writes answer the first one.
 * const firstWins = definePrimitive<[value: string], string>({
 *   name: 'firstWins',
 *   lua: `redis.call('SET', KEYS[1], ARGV[1], 'NX')
 * return redis.call('GET', KEYS[1])`,
 *   redisArgs: (value) => [value],
 *   fromRedis: (reply) => String(reply),
 *   memory: (entries, key, value) => {
 *     const first = entries.get(key);
 *     if (typeof first === 'string') return first;
 *     entries.set(key, value);
 *     return value;
 *   },
 *   off: (value) => value,
 * });
 * const cache = await createCache('mem://');
 * await cache.backend.run(firstWins, 'winner', 'ada');
 * console.log(await cache.backend.run(firstWins, 'winner', 'grace')); // 'ada'
 * ```
 */
export function definePrimitive<A extends readonly unknown[], R>(primitive: Primitive<A, R>): Primitive<A, R> {
  return Object.freeze(primitive);
}

/**
 * The error a call of `primitive` on `key` fails with when Redis answered `error`: the primitive's own explanation
 * ({@link Primitive.redisError}) when it has one, else the error itself (a backend failure).
 */
export function primitiveFailure<A extends readonly unknown[], R>(
  primitive: Primitive<A, R>,
  error: unknown,
  key: string,
): unknown {
  return (error instanceof Error && primitive.redisError?.(error, key)) || error;
}
