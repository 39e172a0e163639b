import type { OnApplicationShutdown } from '@nestjs/common';
import type { Backend } from './backends/backend.interface.js';
import type { ResolvedCacheConfig } from './config/cache-options.js';
import { checkCommandOptions, COMMAND_OPTIONS } from './config/command-options.js';
import { describeArgument } from './config/describe-argument.js';
import { CacheDetect, type CacheHit } from './detect/cache-detect.js';
import { parsePositiveDuration, type Duration } from './duration.js';
import { CacheEngine, PENDING } from './engine/cache-engine.js';
import { attachEngine } from './engine/engine-of.js';
import { assertKeyType } from './keys/protected-keys.js';
import { CacheValueError, CashewsConfigError } from './errors.js';
import { MISS } from './miss.js';
import type { CommandHook } from './pipeline/command-hook.js';
import type { SwitchCommand } from './pipeline/runtime-switch.js';
import type { Transaction, TransactionOptions } from './transactions/transaction.js';
import type { CacheStats } from './stats/types.js';

/**
 * The TTL of a stored value: a {@link Duration} greater than zero, or `'never'` for a key that never expires
 * (also when the instance has a default TTL). `0` and `Infinity` are refused: they mean "no expiry" in some
 * libraries and "expire now" in others.
 */
export type StoreTtl = Duration | 'never';

/** Options of {@link CacheService.set}. */
export interface SetOptions {
  /**
   * Time to live. Without it: the instance's default TTL (`forRoot(url, { ttl })`, `?ttl=`), or, when it has
   * none, no expiry. `'never'`: no expiry whatever the default. Either way a previous TTL is replaced (as Redis
   * `SET` does).
   */
  ttl?: StoreTtl;
  /** `true`: only overwrite an existing key; `false`: only create a missing one. */
  exist?: boolean;
  /** Tags to record the key under; {@link CacheService.deleteTags} removes every key of a tag. */
  tags?: readonly string[];
}

/** Options of {@link CacheService.lock}. */
export interface LockOptions {
  /**
   * `false`: throw {@link LockedError} at once when the lock is held. `true` (default): retry until
   * acquired, for at most the lock's own TTL (by then the holder's lock has expired). A duration: retry
   * for at most that long.
   */
  wait?: boolean | Duration;
  /** Pause between retries. Default `'50ms'`. */
  step?: Duration;
}

/**
 * The command API of one cache instance. Inject it as `CacheService` (the default instance) or with
 * `@InjectCache(name)` (a named one); outside Nest, create one with {@link createCache}.
 *
 * @example
 * ```ts
 * ;@Injectable()
 * export class CatalogueService {
 *   constructor(
 *     private readonly cache: CacheService,
 *     private readonly products: ProductsService,
 *   ) {}
 *
 *   findOne(id: string): Promise<Product> {
 *     return this.cache.getOrSet(`product:${id}`, () => this.products.findOne(id), { ttl: '10m' });
 *   }
 * }
 * ```
 */
export class CacheService implements OnApplicationShutdown {
  // Everything this facade does is the engine's (lib/engine/cache-engine.ts): codec, safe mode, pipeline.
  readonly #engine: CacheEngine;

  constructor(
    /** The storage layer: raw values, no codec, no safe mode. For tests and advanced use. */
    readonly backend: Backend,
    readonly config: ResolvedCacheConfig,
  ) {
    this.#engine = new CacheEngine(backend, config);
    attachEngine(this, this.#engine);
  }

  /** Instance name given to `forRoot`/`createCache`, or `undefined` for the default instance. */
  get name(): string | undefined {
    return this.config.name;
  }

  /**
   * Default TTL in ms (`forRoot(url, { ttl })`, `?ttl=`): used by decorators without `ttl` and by `set`,
   * `setMany` and `getOrSet` called without one. `undefined` when none was configured.
   */
  get defaultTtl(): number | undefined {
    return this.config.ttl;
  }

  /** `false` when the instance was created with `enable=0`. Run-time switches: {@link isDisabled}. */
  get enabled(): boolean {
    return this.config.enable;
  }

  /**
   * Turns commands off for the whole process at run time, until {@link enable}; none named: `'get'` and `'set'`
   * (caching off: reads miss, writes are dropped, result-storing decorators run their method). Invalidation,
   * locks, rate limits and circuits keep working unless named. See {@link SwitchCommand}.
   * @throws CashewsConfigError for an unknown command.
   * @example cache.disable(); // caching off; cache.disable('limit') also lets every call through rate limits
   */
  disable(...commands: SwitchCommand[]): void {
    this.#engine.runtime.disable(commands);
  }

  /**
   * Turns commands switched off by {@link disable} back on; none named: all of them. `disabling` scopes last.
   * An instance created with `enable=0` stays off.
   */
  enable(...commands: SwitchCommand[]): void {
    this.#engine.runtime.enable(commands);
  }

  /**
   * Runs `fn` with commands off (none named: `'get'` and `'set'`, i.e. caching) for everything called inside it,
   * decorated methods of providers and controllers included. Task-local (AsyncLocalStorage): a concurrent call
   * outside `fn` still uses the cache. Scopes nest, adding their commands. See {@link SwitchCommand}.
   * @example const fresh = await cache.disabling(() => products.findOne('42'));
   * @example await cache.disabling(['get', 'set', 'limit'], () => request(app.getHttpServer()).get('/products'));
   */
  disabling<T>(fn: () => T | Promise<T>): Promise<T>;
  disabling<T>(commands: readonly SwitchCommand[], fn: () => T | Promise<T>): Promise<T>;
  disabling<T>(commandsOrFn: readonly SwitchCommand[] | (() => T | Promise<T>), fn?: () => T | Promise<T>): Promise<T> {
    if (typeof commandsOrFn === 'function') return this.#engine.runtime.run([], commandsOrFn);
    if (!Array.isArray(commandsOrFn) || typeof fn !== 'function') {
      throw new CashewsConfigError(
        "cache.disabling(): pass a function, or an array of commands and a function: disabling(['get'], () => …).",
      );
    }
    return this.#engine.runtime.run(commandsOrFn, fn);
  }

  /** Whether `command` is switched off for the current call (none named: whether caching is, `get` or `set`). */
  isDisabled(command?: SwitchCommand): boolean {
    return this.#engine.runtime.isOff(command);
  }

  /**
   * Runs `fn` so that every cached value it depends on is recomputed: inside it, the first read of each key of
   * this instance (`get`, `getMany`, and the reads of decorated methods, however deep) deletes the key and
   * answers a miss, so decorated methods run and store their fresh result; later reads of the same key in the
   * scope answer that fresh value. Task-local: concurrent calls outside `fn` are not affected.
   * @example await cache.invalidateFurther(() => reports.monthly('2026-11')); // the report and what it reads
   */
  invalidateFurther<T>(fn: () => T | Promise<T>): Promise<T> {
    if (typeof fn !== 'function') return Promise.reject(notAFunction('invalidateFurther', fn));
    return this.#engine.further.run(fn);
  }

  /**
   * Runs `fn` in a transaction of this instance: its writes (`set`, `setMany`, `incr`, `delete`, `deleteMany`,
   * `deleteMatch`, `deleteTags`, `expire`, and those of decorated methods it calls) are kept until `fn` resolves,
   * read back by its own reads, then committed together (one `MULTI`/`EXEC` on Redis: all or nothing). They are
   * discarded when `fn` throws or calls `tx.rollback()`. A transaction already running in the same async context
   * is joined. Modes: `'locked'` (default: a lock per written key), `'fast'` (no locks), `'serializable'` (one
   * lock for the instance); see the README, "Transactions", for what each promises.
   * @throws LockedError when a lock was not free within `timeout` (the transaction is rolled back).
   * @throws CacheBackendError when the commit failed, or a lock could not be taken (safe mode or not). A write whose
   * lock failed rejects with the error too; not awaited (`void cache.set(...)`), it is no unhandled rejection.
   * @example
   * await cache.transaction(async () => {
   *   await cache.set('cart:7', { items: 3 });
   *   await cache.incr('carts:open');
   * }, { mode: 'locked', timeout: '2s' });
   */
  transaction<T>(fn: (tx: Transaction) => T | Promise<T>, options: TransactionOptions = {}): Promise<T> {
    try {
      if (typeof fn !== 'function') throw notAFunction('transaction', fn);
      checkCommandOptions('transaction()', options, COMMAND_OPTIONS.transaction);
    } catch (error) {
      return Promise.reject(error as Error); // as every other refusal of a command: a rejection, not a throw
    }
    return this.#engine.transaction(fn, options);
  }

  /**
   * Adds a command hook after the instance's others (the `hooks` option). Every command of the instance, decorated
   * methods' reads and writes included, passes through it from now on. See {@link CommandHook}.
   * @throws CashewsConfigError when `hook` is not a `{ name, handle(call, next) }` object.
   * @example cache.addHook({ name: 'audit', handle: (call, next) => (console.log(call.command), next(call)) });
   */
  addHook(hook: CommandHook): void {
    this.#engine.addHook(hook);
  }

  /**
   * Reads a key. A stored `undefined`/`null` is returned as such; only a miss yields `defaultValue`, and the
   * result has the default's type: `get('n', 0)` is a `number`, `get<Page>('k', null)` a `Page | null`.
   * @example const page = await cache.get<Page>('page:1', null);
   */
  get<T = unknown>(key: string, defaultValue?: undefined): Promise<T | undefined>;
  get<T = unknown>(key: string, defaultValue: null): Promise<T | null>;
  get<T>(key: string, defaultValue: T): Promise<T>;
  get<T>(key: string, defaultValue?: T | null): Promise<T | null | undefined> {
    // A memory or client-side hit is known at once: no promise hop beyond the one the caller awaits.
    const now = this.#engine.readNow(key);
    if (now !== PENDING) return Promise.resolve(now === MISS ? defaultValue : (now as T));
    return this.#engine.read(key).then((value) => (value === MISS ? defaultValue : (value as T)));
  }

  /** Reads several keys at once; the answer follows the order of `keys`, `defaultValue` for each miss. */
  async getMany<T = unknown>(keys: readonly string[], defaultValue?: T): Promise<Array<T | undefined>> {
    const values = await this.#engine.getMany(keys);
    return values.map((value) => (value === MISS ? defaultValue : (value as T)));
  }

  /**
   * Stores a value. Answers `false` when `exist` prevented the write (or, in safe mode, the backend failed).
   * @throws CacheValueError when the value cannot be stored (function, symbol, cycle).
   */
  set(key: string, value: unknown, options: SetOptions = {}): Promise<boolean> {
    return this.#write(() => {
      checkCommandOptions('set()', options, COMMAND_OPTIONS.set);
      return this.#engine.set(key, value, options);
    });
  }

  /** Stores several values with one TTL (default: as {@link set}). */
  setMany(
    entries: Iterable<readonly [string, unknown]> | Record<string, unknown>,
    options: { ttl?: StoreTtl } = {},
  ): Promise<void> {
    return this.#write(() => {
      const list = entryList(entries);
      checkCommandOptions('setMany()', options, COMMAND_OPTIONS.setMany);
      return this.#engine.setMany(list, options);
    });
  }

  /**
   * Returns the stored value, or computes and stores it on a miss. Concurrent callers of one key in this
   * process share a single run of the factory. `ttl` as in {@link set} (default: the instance's default TTL).
   * @example await cache.getOrSet('rates', () => fetchRates(), { ttl: '1m' });
   */
  getOrSet<T>(key: string, valueOrFactory: T | (() => T | Promise<T>), options: { ttl?: StoreTtl } = {}): Promise<T> {
    return this.#write(() => {
      checkCommandOptions('getOrSet()', options, COMMAND_OPTIONS.getOrSet);
      return this.#engine.getOrSet(key, valueOrFactory, options);
    });
  }

  /**
   * Adds `by` to an integer and returns the new value; `ttl` applies when this call creates the counter.
   * Always throws {@link CacheBackendError} on backend failure, even in safe mode: no number would be honest.
   * @throws CacheValueError when the stored value is not an integer (it is left unchanged), or `by` is not one.
   */
  async incr(key: string, by = 1, options: { ttl?: Duration } = {}): Promise<number> {
    checkCommandOptions('incr()', options, COMMAND_OPTIONS.incr);
    return this.#engine.incr(key, by, options);
  }

  delete(key: string): Promise<boolean> {
    return this.#write(() => this.#engine.delete(key));
  }

  deleteMany(keys: readonly string[]): Promise<number> {
    return this.#write(() => this.#engine.deleteMany(keys));
  }

  /**
   * Deletes every key matching `pattern` (`*` is the only wildcard) and returns how many. Protection state
   * (rate limits, circuits, performance markers, locks) is never matched: see {@link resetProtection}.
   */
  deleteMatch(pattern: string): Promise<number> {
    return this.#write(() => this.#engine.deleteMatch(pattern));
  }

  /**
   * Deletes every key stored with any of `tags` (`set(key, v, { tags })`, `@Cache({ tags })`) and answers
   * how many existed. Uses the per-tag index, never a scan: the cost is proportional to the keys removed.
   * @example await cache.deleteTags(`user:${id}`);
   */
  deleteTags(...tags: string[]): Promise<number> {
    return this.#write(() => this.#engine.deleteTags(...tags));
  }

  /**
   * Runs `fn` in a fresh detection scope and answers its result with every value served from cache
   * inside it: key, strategy, remaining TTL, staleness, and the error a failover value stood in for.
   * @example const { result, hits } = await cache.detect(() => products.findOne('42'));
   */
  detect<T>(fn: () => T | Promise<T>): Promise<{ result: T; hits: CacheHit[] }> {
    if (typeof fn !== 'function') return Promise.reject(notAFunction('detect', fn));
    return CacheDetect.run(fn);
  }

  /**
   * Iterates keys matching `pattern` (`*` is the only wildcard; `?`, `[`, `]` are literal). Protection state is
   * never listed.
   */
  async *scan(pattern: string): AsyncIterable<string> {
    yield* this.#engine.scan(pattern);
  }

  /** Iterates `[key, value]` pairs for keys matching `pattern`; keys that vanish meanwhile are skipped. */
  async *getMatch<T = unknown>(pattern: string): AsyncIterable<[string, T]> {
    yield* this.#engine.getMatch<T>(pattern);
  }

  /** Sets the TTL of an existing key; `false` when it is missing. */
  expire(key: string, ttl: Duration): Promise<boolean> {
    return this.#write(() => this.#engine.expire(key, ttl));
  }

  /** Milliseconds left; `-1` when the key has no expiry, `-2` when it is missing. */
  async getExpire(key: string): Promise<number> {
    return this.#engine.getExpire(key);
  }

  async exists(key: string): Promise<boolean> {
    return this.#engine.exists(key);
  }

  /** `'PONG'`, or `message` echoed. Throws {@link CacheBackendError} when the backend is unreachable, even in safe mode. */
  async ping(message?: string): Promise<string> {
    return this.#engine.ping(message);
  }

  /**
   * Removes every key of this instance, protection state included (on Redis: `FLUSHDB` of the URL's database, on
   * every master in a cluster).
   */
  async clear(): Promise<void> {
    return this.#engine.clear();
  }

  /**
   * Takes `key` for `ttl` with `token` only if nobody holds it. Locks are protection state: they live apart from
   * cache keys, so no `deleteMatch`, `@Invalidate` pattern or tag can release a held lock.
   */
  async setLock(key: string, token: string, ttl: Duration): Promise<boolean> {
    assertKeyType(key, 'setLock');
    return (await this.#engine.tryLock(key, token, parsePositiveDuration(ttl, 'ttl'))) === 'acquired';
  }

  /**
   * Releases `key` only if it still holds `token`. When the backend fails, the release is retried in the
   * background (for at most a minute) once it answers again, so the lock does not stay held until its TTL.
   */
  async unlock(key: string, token: string): Promise<boolean> {
    assertKeyType(key, 'unlock');
    return this.#engine.unlock(key, token);
  }

  /**
   * Whether `key` is locked. With `wait`, polls every `step` (default 50 ms) and answers `false` as soon
   * as the lock is released, `true` if it is still held when `wait` has elapsed.
   */
  async isLocked(key: string, options: { wait?: Duration; step?: Duration } = {}): Promise<boolean> {
    assertKeyType(key, 'isLocked');
    checkCommandOptions('isLocked()', options, COMMAND_OPTIONS.isLocked);
    return this.#engine.isLocked(key, options);
  }

  /**
   * Runs `fn` while holding `key` for at most `ttl`, and releases its own token afterwards even when `fn`
   * throws. In safe mode a backend failure runs `fn` without the lock (logged) rather than failing the call.
   * @throws LockedError when the lock is held and `wait` is `false` or has elapsed.
   * @example await cache.lock('reindex', '30s', () => this.reindex(), { wait: false });
   */
  async lock<T>(key: string, ttl: Duration, fn: () => T | Promise<T>, options: LockOptions = {}): Promise<T> {
    assertKeyType(key, 'lock');
    // Before the lock is taken: a lock held for a call that cannot run would only keep others out until its TTL.
    if (typeof fn !== 'function') throw notAFunction('lock', fn);
    checkCommandOptions('lock()', options, COMMAND_OPTIONS.lock);
    return this.#engine.lock(key, ttl, fn, options);
  }

  /**
   * Resets protection state: rate-limit windows (`<key>:rate`, `<key>:sliding`), circuits (`<key>:circuit`),
   * performance markers (`<key>:perf`) and locks (`<key>:locked`, `<key>:stampede`, `<key>:early`, and names
   * given to {@link lock}) whose name matches `pattern` (`*` is the only wildcard). This is the only way to
   * remove them short of {@link clear}: cache commands, `@Invalidate` and tags never reach them. Answers how
   * many were removed. Removing a held lock lets another caller in while its holder still runs.
   * @example await cache.resetProtection('ProductsController:list:*'); // every client's quota of that route
   */
  async resetProtection(pattern: string): Promise<number> {
    assertKeyType(pattern, 'resetProtection');
    return this.#engine.resetProtection(pattern);
  }

  // --- Bitmaps, sliding counters, sets, key count and size, raw values (issue #13) --------------------------
  /**
   * Reads the unsigned counters of `size` bits (1 to 16, default 1) at each of `indexes` of the bitmap at `key`:
   * 0 for a missing key or past the end of the bitmap. On Redis, `BITFIELD GET u<size> #<index>` (a key holding a
   * string is a bitmap of its bytes); in memory, a byte array laid out the same way.
   * @throws CacheValueError for an index that is not an integer from 0 (counters must end within 2^32 bits), a
   * `size` outside 1..16, or a key holding a set or a sliding counter.
   * @example
   * ```ts
   * const [clicks, views] = await cache.getBits('stats:2024-06-01', [0, 1], { size: 16 });
   * ```
   */
  async getBits(key: string, indexes: readonly number[], options: { size?: number } = {}): Promise<number[]> {
    checkCommandOptions('getBits()', options, COMMAND_OPTIONS.getBits);
    return this.#engine.getBits(key, indexes, options);
  }

  /**
   * Adds `by` (default 1, negative to subtract) to the counter of `size` bits (1 to 16, default 1) at each of
   * `indexes` and answers the new values. Counters saturate: never above `2^size - 1`, never below 0 (Redis
   * `BITFIELD OVERFLOW SAT`). `ttl` applies when this call creates the bitmap; an existing one keeps its TTL. The
   * building block of Bloom filters and of compact per-day counters. Like {@link incr}, always throws
   * {@link CacheBackendError} on backend failure, even in safe mode: no counter value would be honest.
   * @throws CacheValueError as {@link getBits}, and for a `by` that is not a safe integer.
   * @example
   * ```ts
   * // A 1-bit Bloom filter: set the bits of an e-mail's hashes, test them later with getBits.
   * const bits = [1_337, 90_210, 4_242].map((hash) => hash % 1_000_000);
   * await cache.incrBits('bloom:emails', bits, { ttl: '30d' });
   * const seen = (await cache.getBits('bloom:emails', bits)).every((bit) => bit === 1);
   * ```
   */
  async incrBits(
    key: string,
    indexes: readonly number[],
    options: { size?: number; by?: number; ttl?: Duration } = {},
  ): Promise<number[]> {
    checkCommandOptions('incrBits()', options, COMMAND_OPTIONS.incrBits);
    return this.#engine.incrBits(key, indexes, options);
  }

  /**
   * A sliding counter (cashews' `slice_incr`): drops the entries of `key` older than `start`, counts those from
   * `start` to `end` (both included) and, only when that count is under `max`, adds one at `end`; answers the count
   * after the call. That is `max` both for the call that reached it and for those refused after it, so give your
   * limit + 1 as `max` and refuse counts above the limit (as cashews' own sliding rate limit does). `start` and
   * `end` are numbers on one scale, usually times in ms. `ttl` (re)sets the key's TTL whenever an entry is added;
   * a call whose `start` drops every entry starts a new key, without the former TTL. A sorted set on Redis. Like
   * {@link incr}, always throws {@link CacheBackendError} on backend failure, even in safe mode: no count would be
   * honest.
   * @throws CacheValueError for a `start`/`end` that is not a finite number or a `start` after `end`, a `max` that
   * is not an integer of at least 1, or a key holding another kind of value.
   * @example
   * ```ts
   * // At most 100 exports per user in any hour (max 101: the 101st call and later ones answer 101).
   * declare const userId: string;
   * const now = Date.now();
   * const count = await cache.sliceIncr(`exports:${userId}`, now - 3_600_000, now, { max: 101, ttl: '1h' });
   * if (count > 100) throw new Error('Too many exports this hour');
   * ```
   */
  async sliceIncr(key: string, start: number, end: number, options: { max: number; ttl?: Duration }): Promise<number> {
    checkCommandOptions('sliceIncr()', options, COMMAND_OPTIONS.sliceIncr);
    return this.#engine.sliceIncr(key, start, end, options);
  }

  /**
   * Adds `members` to the set at `key` and answers how many were not in it yet. Members are strings, stored as
   * given: nothing is encoded, signed or decoded. `ttl` (re)sets the key's TTL on every call; without it the key
   * keeps its TTL (a new set gets none: the instance's default TTL does not apply, as for {@link incr}).
   * @throws CacheValueError when `members` is not an array of strings, or the key holds another kind of value.
   * @example
   * ```ts
   * await cache.setAdd('online', ['ada', 'grace'], { ttl: '5m' });
   * ```
   */
  async setAdd(key: string, members: readonly string[], options: { ttl?: Duration } = {}): Promise<number> {
    checkCommandOptions('setAdd()', options, COMMAND_OPTIONS.setAdd);
    return this.#engine.setAdd(key, members, options);
  }

  /**
   * Removes `members` from the set at `key` and answers how many were in it; a set left empty is removed.
   * @throws CacheValueError when `members` is not an array of strings, or the key holds another kind of value.
   * @example
   * ```ts
   * await cache.setRemove('online', ['ada']);
   * ```
   */
  async setRemove(key: string, members: readonly string[]): Promise<number> {
    return this.#engine.setRemove(key, members);
  }

  /**
   * Removes and answers up to `count` members (default 1) of the set at `key`, in no particular order (random on
   * Redis); fewer when it holds fewer, `[]` when it is missing. A set left empty is removed. There is no command
   * reading a set without changing it, as in cashews.
   * @throws CacheValueError when `count` is not an integer from 0, or the key holds another kind of value.
   * @example
   * ```ts
   * const batch = await cache.setPop('pending-emails', 50);
   * ```
   */
  async setPop(key: string, count = 1): Promise<string[]> {
    return this.#engine.setPop(key, count);
  }

  /**
   * How many keys the instance holds; protection state (rate limits, circuits, locks) and tag indexes are not
   * counted. Exact on `mem://`. On Redis, the database's `DBSIZE` less those reserved keys, which takes a `SCAN` of
   * the whole database (on every master of a cluster): O(keys) on the server, for monitoring rather than a hot
   * path, and it counts every key of the database, this instance's or not. With prefix routes, the sum over
   * routes of the keys each owns (a scan of each).
   * @example
   * ```ts
   * console.log(`${await cache.getKeysCount()} keys cached`);
   * ```
   */
  async getKeysCount(): Promise<number> {
    return this.#engine.getKeysCount();
  }

  /**
   * How many bytes the value at `key` takes as stored, `-1` when missing. On Redis, `MEMORY USAGE`: the server's
   * own figure, key name and allocator overhead included (so even a short string weighs some 50 bytes; sampled
   * for large sets). On `mem://`, an estimate of the content: UTF-8 bytes of strings (object keys included), 8 per
   * number, byte length of binary data and bitmaps, summed over nested values; no engine overhead.
   * @example
   * ```ts
   * const bytes = await cache.getSize('report:2024');
   * ```
   */
  async getSize(key: string): Promise<number> {
    return this.#engine.getSize(key);
  }

  /**
   * The string stored at `key` exactly as the backend holds it, `undefined` when missing: no codec and no signature
   * check, for exchanging values with programs in other languages. A value written by {@link set} answers its
   * encoded form (`c1:…`, or `c1s:<mac>:…` when signed), a counter its digits. On `mem://` without `secret`
   * nothing is encoded (values are kept as copies): a string stored by {@link set} or {@link setRaw} answers
   * itself, any other value is refused.
   * @throws CacheValueError when the key holds no string: a set or a sliding counter, or on `mem://` a JS value.
   * @example
   * ```ts
   * const legacy = await cache.getRaw('php:session:42'); // written by another application
   * ```
   */
  async getRaw(key: string): Promise<string | undefined> {
    return this.#engine.getRaw(key);
  }

  /**
   * Stores `raw` at `key` as given: no codec, no signature. `ttl` as in {@link set} (default: the instance's
   * default TTL). {@link get} then decodes it as a cashews value: on Redis or with `secret`, a string not in that
   * format reads as a miss (and is logged); on `mem://` without `secret` the string itself is the value.
   * @throws CacheValueError when `raw` is not a string.
   * @example
   * ```ts
   * await cache.setRaw('feature-flags', JSON.stringify({ beta: true }), { ttl: '1h' }); // read by a Go service
   * ```
   */
  async setRaw(key: string, raw: string, options: { ttl?: StoreTtl } = {}): Promise<boolean> {
    checkCommandOptions('setRaw()', options, COMMAND_OPTIONS.setRaw);
    return this.#engine.setRaw(key, raw, options);
  }

  /**
   * Usage statistics of this instance since it was created, in this process: per decorated method and
   * decorator (calls, hits, misses, stale values served, executions, executions avoided, errors, time saved,
   * rate-limit rejections, circuit state), per backend (commands, failures, key hits and misses; one entry per
   * prefix route), and the hit-ratio history of the last 10 minutes. See the README, "Usage stats".
   * @example const { methods } = cache.stats(); // [{ method: 'ProductsService.findOne', strategy: 'cache', hits: 41, … }]
   */
  stats(): CacheStats {
    const now = Date.now();
    const collector = this.#engine.collector;
    return {
      cache: this.name ?? 'default',
      url: this.config.displayUrl,
      since: collector.since,
      methods: collector.methods(now),
      backends: this.#engine.backendStats(),
      history: collector.history(now),
      hooks: this.#engine.pipeline
        .list()
        .flatMap((hook) => (hook.stats ? [{ name: hook.name, stats: { ...hook.stats() } }] : [])),
    };
  }

  /** Closes connections and timers. Called by Nest on application shutdown; safe to call twice. */
  close(): Promise<void> {
    return this.#engine.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /**
   * Runs a write command and hands its answer on as is (a refused argument rejects it, it never throws), except
   * that inside a transaction a lock failure is the transaction's to throw at commit: a write nobody awaits
   * (`void cache.set(...)`) then leaves no unhandled rejection. Not `async`: that would wrap the answer in a
   * promise of its own, which would reject unhandled.
   */
  #write<T>(run: () => Promise<T>): Promise<T> {
    let answer: Promise<T>;
    try {
      answer = run();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.#engine.held(answer);
  }
}

/** The error of a command given something else where it runs a function of the caller's. */
function notAFunction(command: string, value: unknown): CashewsConfigError {
  return new CashewsConfigError(
    `${command}(): expected a function to run, such as () => this.work(); got ${describeArgument(value)}.`,
  );
}

const ENTRIES_FORMS = 'an array of [key, value] pairs, a Map, or an object of keys and values';

/**
 * `setMany`'s entries as pairs. Refused: anything but an object (a string is iterable, and its characters would be
 * read as one-character pairs), and an entry of an iterable that is not a pair (`['ab']` would store `b` under `a`).
 */
function entryList(entries: unknown): Array<readonly [string, unknown]> {
  if (typeof entries !== 'object' || entries === null) {
    throw new CacheValueError(`setMany(): entries must be ${ENTRIES_FORMS} (got ${describeArgument(entries)}).`);
  }
  if (!(Symbol.iterator in entries)) return Object.entries(entries);
  const list = [...(entries as Iterable<unknown>)];
  for (const entry of list) {
    if (!Array.isArray(entry) || entry.length !== 2) {
      throw new CacheValueError(
        `setMany(): each entry must be a [key, value] pair (got ${describeArgument(entry)}${
          Array.isArray(entry) ? ` of ${entry.length}` : ''
        }); entries may be ${ENTRIES_FORMS}.`,
      );
    }
  }
  return list as Array<readonly [string, unknown]>;
}
