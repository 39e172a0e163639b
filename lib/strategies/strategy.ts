import type { Duration } from '../duration.js';
import type { TransactionOptions } from '../transactions/transaction.js';
import type { KeySource } from '../keys/key-template.js';
import type { CacheHit } from '../detect/cache-detect.js';
import type { CircuitOp, CircuitSettings, CircuitState, WindowState } from '../backends/protect-types.js';

/**
 * What strategies need from a cache instance: the engine (lib/engine/cache-engine.ts) implements it.
 * Strategies depend on this interface only, so they carry no Nest types and can be tested on any backend.
 */
export interface StrategyCache {
  /**
   * The value of `key`, or `MISS`. With `expiry` whose `wantsExpire` is true (a detection scope listens), a cache
   * that can ask the remaining TTL in the same round trip as the value (Redis: `GET` and `PTTL` in one write) does
   * so and hands a hit's TTL to `expiry.noteExpire`; one that cannot ignores `expiry` (the TTL is asked later).
   */
  read(key: string, expiry?: ReadExpiry): Promise<unknown>;
  /**
   * The value of `key` (or `MISS`) when it is known without waiting (memory, a client-side hit, nothing in the
   * command pipeline), else `PENDING`: then {@link read} it. Counted as {@link read} is. A cache without it is read.
   */
  readNow?(key: string): unknown;
  set(
    key: string,
    value: unknown,
    options?: { ttl?: Duration; exist?: boolean; tags?: readonly string[] },
  ): Promise<boolean>;
  delete(key: string): Promise<boolean>;
  /** Invalidation (`@Invalidate`): every key matching a pattern (`*` only), or every key of some tags. */
  deleteMatch(pattern: string): Promise<number>;
  deleteTags(...tags: string[]): Promise<number>;
  incr(key: string, by?: number, options?: { ttl?: Duration }): Promise<number>;
  getExpire(key: string): Promise<number>;
  tryLock(key: string, token: string, ttl: number): Promise<'acquired' | 'held' | 'failed'>;
  unlock(key: string, token: string): Promise<boolean>;
  /** `holdUntil`: the lock outlives `fn` until the promise it gives for the result settles (a streamed result). */
  lock<T>(
    key: string,
    ttl: Duration,
    fn: () => T | Promise<T>,
    options?: { wait?: boolean | Duration; step?: Duration; holdUntil?: (result: T) => Promise<void> | undefined },
  ): Promise<T>;
  /** One run of `fn` per key in this process; a run older than `shareFor` ms is not joined. */
  singleFlight<T>(key: string, fn: () => Promise<T>, shareFor?: number): Promise<T>;
  /** Atomic fixed-window count (`@RateLimit`); safe mode falls back to per-process memory state. */
  fixedWindow(key: string, limit: number, period: number, banTtl: number): Promise<WindowState>;
  /** Atomic sliding-window count (`@SlidingRateLimit`); safe mode falls back to per-process memory state. */
  slidingWindow(key: string, limit: number, period: number): Promise<WindowState>;
  /** One atomic circuit-breaker step (`@CircuitBreaker`); safe mode falls back to per-process memory state. */
  circuit(key: string, op: CircuitOp, settings: CircuitSettings): Promise<CircuitState>;
  /**
   * Counts one hit of a stored value (`@HitCache`: `incr` of its counter, created for `ttl` ms). A backend failure
   * is `undefined` in safe mode (a miss, logged once per burst as other failures are), else a CacheBackendError; a
   * counter that holds no integer is `undefined` too (logged).
   */
  countHit(key: string, ttl: number | undefined): Promise<number | undefined>;
  /** Bits of a Bloom filter (1-bit counters at `indexes`); `undefined` when the backend failed (logged). */
  readBits(key: string, indexes: readonly number[]): Promise<number[] | undefined>;
  /**
   * Sets bits of a Bloom filter (`ttl` ms from its creation, if given). A backend failure throws with `strict`, else it
   * is logged.
   */
  addBits(key: string, indexes: readonly number[], ttl: number | undefined, strict: boolean): Promise<void>;
  /** A protection state value (`@PerfDegradation`'s marker), out of reach of cache commands; MISS when none. */
  readState(name: string): Promise<unknown>;
  /** Stores a protection state value for `ttl` ms. */
  writeState(name: string, value: unknown, ttl: number): Promise<boolean>;
  /** Runs `fn` in a transaction of this instance, or in the one already running in this async context. */
  transaction<T>(fn: () => Promise<T>, options: TransactionOptions): Promise<T>;
  /**
   * Runs `fn` outside the transaction of this async context, if any: its commands reach the backend at once, and
   * neither a rollback nor a commit of the caller's transaction touches them (background bookkeeping).
   */
  outsideTransaction<T>(fn: () => Promise<T>): Promise<T>;
}

/** Who wants the remaining TTL of a value read by {@link StrategyCache.read}: the call that will report the hit. */
export interface ReadExpiry {
  /** Read when the read starts: `true` when the hit will be reported with its remaining TTL. */
  readonly wantsExpire?: boolean;
  /** The remaining TTL of `key` (ms; -1: no expiry), read together with its value. */
  noteExpire?(key: string, ttl: number): void;
}

/** How a reported problem is logged: `'error'` (the default) or `'warn'`. */
export type ProblemSeverity = 'error' | 'warn';

/** Rate-limit state of one call, for adapters that report it (HTTP `X-RateLimit-*` headers). */
export interface LimitInfo {
  /** The call is within the limit (a refused call is counted as a rejection in the usage statistics). */
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Milliseconds until the window (or ban) resets. */
  readonly reset: number;
}

/**
 * One call as a strategy sees it. It is the {@link ReadExpiry} of its own reads: a strategy that reads the entry it
 * may report passes the call along (`cache.read(call.key, call)`), so a reported hit costs no second round trip.
 */
export interface StrategyCall extends ReadExpiry {
  /** `ClassName.method`, for logs and errors. */
  readonly target: string;
  readonly args: readonly unknown[];
  /** This layer's key, already built from its template and the call's arguments. */
  readonly key: string;
  /** What keys are built from: the arguments and, on controllers, the request (tags, invalidation patterns). */
  readonly source?: KeySource;
  /**
   * Records a value served from cache in the detection scope (no-op when nobody listens). `lifetime` is the TTL the
   * served entry was stored with, when it is not the layer's fixed one (a stored error's `errorTtl`), for its age.
   * `remaining` is what is left of that lifetime (ms) when the strategy knows it better than the backend's expiry
   * (an entry kept past its ttl as a stale stand-in); the backend is then not asked.
   */
  report(
    hit: Omit<CacheHit, 'key' | 'ttl'> & { key?: string; lifetime?: number; remaining?: number },
  ): Promise<void> | void;
  /**
   * Says that this call's answer was served rather than computed, though not by this layer's own hit (a run shared
   * with a concurrent caller that a layer below served, a value another process stored while this one waited): the
   * layers above then do not store it.
   */
  markServed?(): void;
  /** Runs work after the call has answered (background refresh); failures are logged, never thrown. */
  background(work: () => Promise<unknown>): void;
  /** Reports rate-limit state to the adapter (HTTP sets `X-RateLimit-*` headers); no-op elsewhere. */
  reportLimit?(info: LimitInfo): void;
  /** Reports what a circuit-breaker step answered (`check`: the step before the call), for the usage statistics. */
  reportCircuit?(state: CircuitState, check: boolean): void;
  /** Reports a call refused without running (a fast fail that no limit or circuit report covers), for statistics. */
  reportRejection?(): void;
  /**
   * A configuration problem only a call can reveal (a ttl function answering a ttl not above `earlyTtl`, a result
   * the codec cannot store): the adapter logs it once per layer and `kind`, as an error unless `severity` is
   * `'warn'`. The call itself goes on.
   */
  reportProblem?(kind: string, message: string, severity?: ProblemSeverity): void;
  /** Something worth a log line every time it happens (an `@Adaptive` decision that changed). */
  reportEvent?(message: string): void;
}

/**
 * What one run of the rest of the chain tells the layer that started it. A layer below that answered from its cache
 * or with a stand-in (a hit, an early or stale value, a failover value, a stored error) sets `served`: the answer was
 * not computed by this run, so a storing layer above does not store it (it would keep a stale value for its own TTL).
 */
export interface RunReport {
  served?: boolean;
}

/**
 * Runs the rest of the chain: the next strategy, or the decorated method itself. A strategy that stores what it gets
 * passes a {@link RunReport} and reads it once the run settled (see `compute` in store-policy.ts).
 */
export type Next = (run?: RunReport) => Promise<unknown>;

/** A strategy: a plain function of the call, its options, the cache and the rest of the chain. */
export type Strategy<O> = (call: StrategyCall, options: O, cache: StrategyCache, next: Next) => Promise<unknown>;

/**
 * A TTL: a duration, or a function of the result and the call's arguments (e.g. an upstream `expires_in`); a
 * function of the result alone fits too.
 */
export type TtlOption<R = unknown> = Duration | ((result: R, args: readonly unknown[]) => Duration);

/** When a result may be stored: a predicate, or `'notNullish'`. */
export type ConditionOption<R = unknown> = 'notNullish' | ((result: R, args: readonly unknown[]) => boolean);

/** Errors a strategy reacts to: error classes, or a predicate. Default: any error. */
export type ExceptionsOption = ReadonlyArray<abstract new (...args: never[]) => Error> | ((error: unknown) => boolean);

export function matchesExceptions(exceptions: ExceptionsOption | undefined, error: unknown): boolean {
  if (!exceptions) return true;
  if (typeof exceptions === 'function') return exceptions(error);
  return exceptions.some((type) => error instanceof type);
}

/** Name of a thrown value for detection: its `name`, or its class name when a subclass left `name` as `'Error'`. */
export function errorName(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  return error.name === 'Error' && error.constructor.name ? error.constructor.name : error.name;
}
