import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Backend } from './backends/backend.interface.js';
import { MemoryBackend } from './backends/memory.backend.js';
import type { CircuitOp, CircuitSettings, CircuitState, WindowState } from './backends/protect-types.js';
import { CloneCodec, INVALID, OUTDATED, StringCodec, type Codec } from './codec/codec.js';
import type { ResolvedCacheConfig } from './config/cache-options.js';
import { parseDuration, parsePositiveDuration, type Duration } from './duration.js';
import { CacheBackendError, CacheValueError, CashewsConfigError, CashewsError, LockedError } from './errors.js';
import { BurstLogger } from './logging/burst-logger.js';
import { LostLocks } from './lost-locks.js';
import { MISS } from './miss.js';
import { CacheDetect, type CacheHit } from './detect/cache-detect.js';
import { checkTags } from './tags/tag-keys.js';
import { assertCacheKey, isProtectedKey, protectedKey, reservedKeyError } from './keys/protected-keys.js';
import { PrefixRouterBackend } from './backends/prefix-router.backend.js';
import type { BackendCounters } from './stats/backend-counters.js';
import { StatsCollector } from './stats/collector.js';
import type { BackendStats, CacheStats } from './stats/types.js';
import { DisabledBackend } from './backends/disabled.backend.js';
import { RuntimeSwitch, type SwitchCommand } from './runtime-switch.js';

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

type LockAttempt = 'acquired' | 'held' | 'failed';
type SyncReader = { getSync(key: string): unknown };
/** A backend with an in-process layer of values already decoded (`client_side`), e.g. `ClientSideBackend`. */
type LocalReader = { readLocal(key: string, decode: (key: string, raw: unknown) => unknown): unknown };

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
  private readonly codec: Codec;
  private readonly logger: Logger;
  private readonly failures: BurstLogger;
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly sync?: SyncReader;
  private readonly local?: LocalReader;
  private closed?: Promise<void>;
  /** Per-process state of rate limits and circuits while the backend is unreachable (safe mode). */
  private fallback?: MemoryBackend;
  /**
   * @internal Usage statistics of this instance, fed by the executor (decorated calls) and by the command paths
   * below (backend commands, failures, key reads). Read them with {@link stats}.
   */
  readonly collector = new StatsCollector();
  private readonly counters: BackendCounters = this.collector.backend;
  /** Locks possibly taken or kept without their holder knowing (lost reply, failed unlock); released when back. */
  private readonly lostLocks = new LostLocks((key, token) => this.backend.unlock(protectedKey(key), token));
  /** @internal Commands switched off at run time ({@link disable}, {@link disabling}); read by the executor. */
  readonly runtime = new RuntimeSwitch();

  constructor(
    /** The storage layer: raw values, no codec, no safe mode. For tests and advanced use. */
    readonly backend: Backend,
    readonly config: ResolvedCacheConfig,
  ) {
    this.codec = backend.kind === 'memory' && !config.secret ? new CloneCodec() : new StringCodec(config.secret);
    this.logger = new Logger(config.name ? `Cashews:${config.name}` : 'Cashews');
    this.failures = new BurstLogger(this.logger);
    if ('getSync' in backend && this.codec instanceof CloneCodec) this.sync = backend as unknown as SyncReader;
    if ('readLocal' in backend) this.local = backend as unknown as LocalReader;
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
    this.runtime.disable(commands);
  }

  /** Turns commands switched off by {@link disable} back on; none named: all of them. `disabling` scopes last. */
  enable(...commands: SwitchCommand[]): void {
    this.runtime.enable(commands);
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
    if (typeof commandsOrFn === 'function') return this.runtime.run([], commandsOrFn);
    if (!Array.isArray(commandsOrFn) || typeof fn !== 'function') {
      throw new CashewsConfigError(
        "cache.disabling(): pass a function, or an array of commands and a function: disabling(['get'], () => …).",
      );
    }
    return this.runtime.run(commandsOrFn, fn);
  }

  /** Whether `command` is switched off for the current call (none named: whether caching is, `get` or `set`). */
  isDisabled(command?: SwitchCommand): boolean {
    return this.runtime.isOff(command);
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
    if (isProtectedKey(key)) return Promise.reject(reservedKeyError(key, 'get'));
    if (this.runtime.offFor('get')) return Promise.resolve(defaultValue);
    if (this.sync) {
      // Memory hits skip the async machinery: this path is what `@Cache` hits cost.
      const raw = this.sync.getSync(key);
      this.counters.commands++;
      // OUTDATED: an instance of a class redefined since it was stored, a miss as on Redis.
      const value = raw === undefined ? MISS : this.codec.decode(key, raw);
      if (value === MISS || value === OUTDATED) {
        this.counters.misses++;
        return Promise.resolve(defaultValue);
      }
      this.counters.hits++;
      return Promise.resolve(value as T);
    }
    if (this.local) {
      // Client-side cache hits: no round trip, decoded once per local entry.
      const value = this.local.readLocal(key, this.decodeLocal);
      if (value !== MISS) {
        this.counters.commands++;
        this.counters.hits++;
        return Promise.resolve(value as T);
      }
    }
    return this.read(key).then((value) => (value === MISS ? defaultValue : (value as T)));
  }

  /** Like {@link get} but answers {@link MISS} for a miss, so strategies can tell it from a stored `undefined`. */
  read(key: string): Promise<unknown> {
    if (isProtectedKey(key)) return Promise.reject(reservedKeyError(key, 'get'));
    if (this.runtime.offFor('get')) return Promise.resolve(MISS);
    const counters = this.counters;
    counters.commands++;
    if (this.sync) {
      const raw = this.sync.getSync(key);
      const value = raw === undefined ? MISS : this.codec.decode(key, raw);
      if (value === MISS || value === OUTDATED) {
        counters.misses++;
        return Promise.resolve(MISS);
      }
      counters.hits++;
      return Promise.resolve(value);
    }
    if (this.local) {
      const value = this.local.readLocal(key, this.decodeLocal);
      if (value !== MISS) {
        counters.hits++;
        return Promise.resolve(value);
      }
    }
    // One promise hop instead of an async wrapper: this is the Redis hit path.
    return this.backend.get(key).then(
      (raw) => {
        const value = this.decode(key, raw);
        counters.read(value !== MISS);
        return value;
      },
      (error: unknown) => {
        this.fail('get', error, false);
        return MISS;
      },
    );
  }

  /** Reads several keys at once; the answer follows the order of `keys`. */
  async getMany<T = unknown>(keys: readonly string[], defaultValue?: T): Promise<Array<T | undefined>> {
    for (const key of keys) assertCacheKey(key, 'getMany');
    const raws = await this.guard('getMany', [] as unknown[], () => this.backend.getMany(keys));
    return keys.map((key, i) => {
      const value = this.decode(key, raws[i]);
      this.counters.read(value !== MISS);
      return value === MISS ? defaultValue : (value as T);
    });
  }

  /**
   * Stores a value. Answers `false` when `exist` prevented the write (or, in safe mode, the backend failed).
   * @throws CacheValueError when the value cannot be stored (function, symbol, cycle).
   */
  async set(key: string, value: unknown, options: SetOptions = {}): Promise<boolean> {
    assertCacheKey(key, 'set');
    const raw = this.codec.encode(key, value);
    const ttl = storeTtl(options.ttl, this.config.ttl);
    if (options.tags?.length) {
      const tags = checkTags(options.tags, `set("${key}")`);
      return this.guard('set', false, () => this.backend.setTagged(key, raw, tags, { ttl, exist: options.exist }));
    }
    return this.guard('set', false, () => this.backend.set(key, raw, { ttl, exist: options.exist }));
  }

  /** Stores several values with one TTL (default: as {@link set}). */
  async setMany(
    entries: Iterable<readonly [string, unknown]> | Record<string, unknown>,
    options: { ttl?: StoreTtl } = {},
  ): Promise<void> {
    const list =
      Symbol.iterator in entries ? [...(entries as Iterable<readonly [string, unknown]>)] : Object.entries(entries);
    for (const [key] of list) assertCacheKey(key, 'setMany');
    const raws = list.map(([key, value]) => [key, this.codec.encode(key, value)] as const);
    const ttl = storeTtl(options.ttl, this.config.ttl);
    await this.guard('setMany', undefined, () => this.backend.setMany(raws, ttl));
  }

  /**
   * Returns the stored value, or computes and stores it on a miss. Concurrent callers of one key in this
   * process share a single run of the factory. `ttl` as in {@link set} (default: the instance's default TTL).
   * @example await cache.getOrSet('rates', () => fetchRates(), { ttl: '1m' });
   */
  async getOrSet<T>(
    key: string,
    valueOrFactory: T | (() => T | Promise<T>),
    options: { ttl?: StoreTtl } = {},
  ): Promise<T> {
    const stored = await this.read(key);
    if (stored !== MISS) return stored as T;
    return this.singleFlight(key, async () => {
      const value =
        typeof valueOrFactory === 'function' ? await (valueOrFactory as () => T | Promise<T>)() : valueOrFactory;
      await this.set(key, value, options);
      return value;
    });
  }

  /** Runs `fn` once per key among concurrent callers of this process; later callers share its promise. */
  singleFlight<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const running = this.inflight.get(key);
    if (running) return running as Promise<T>;
    const promise = fn().finally(() => this.inflight.delete(key));
    this.inflight.set(key, promise);
    return promise;
  }

  /**
   * Adds `by` to an integer and returns the new value; `ttl` applies when this call creates the counter.
   * Always throws {@link CacheBackendError} on backend failure, even in safe mode: no number would be honest.
   * @throws CacheValueError when the stored value is not an integer (it is left unchanged), or `by` is not one.
   */
  async incr(key: string, by = 1, options: { ttl?: Duration } = {}): Promise<number> {
    assertCacheKey(key, 'incr');
    if (!Number.isSafeInteger(by)) {
      throw new CacheValueError(
        `incr("${key}"): "by" must be a safe integer such as 1 or -1 (got ${String(by)}); counters hold integers ` +
          `only, so count fractions in smaller units (e.g. cents).`,
      );
    }
    const ttl = ttlOf(options.ttl);
    return this.guard('incr', NaN, () => this.backend.incr(key, by, ttl), true);
  }

  async delete(key: string): Promise<boolean> {
    assertCacheKey(key, 'delete');
    return this.guard('delete', false, () => this.backend.delete(key));
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    for (const key of keys) assertCacheKey(key, 'deleteMany');
    return this.guard('deleteMany', 0, () => this.backend.deleteMany(keys));
  }

  /**
   * Deletes every key matching `pattern` (`*` is the only wildcard) and returns how many. Protection state
   * (rate limits, circuits, performance markers, locks) is never matched: see {@link resetProtection}.
   */
  async deleteMatch(pattern: string): Promise<number> {
    assertCacheKey(pattern, 'deleteMatch');
    return this.guard('deleteMatch', 0, () => this.backend.deleteMatch(pattern));
  }

  /**
   * Deletes every key stored with any of `tags` (`set(key, v, { tags })`, `@Cache({ tags })`) and answers
   * how many existed. Uses the per-tag index, never a scan: the cost is proportional to the keys removed.
   * @example await cache.deleteTags(`user:${id}`);
   */
  async deleteTags(...tags: string[]): Promise<number> {
    if (tags.length === 0) return 0;
    const checked = checkTags(tags, 'deleteTags');
    return this.guard('deleteTags', 0, () => this.backend.deleteTags(checked));
  }

  /**
   * Runs `fn` in a fresh detection scope and answers its result with every value served from cache
   * inside it: key, strategy, remaining TTL, staleness, and the error a failover value stood in for.
   * @example const { result, hits } = await cache.detect(() => products.findOne('42'));
   */
  detect<T>(fn: () => T | Promise<T>): Promise<{ result: T; hits: CacheHit[] }> {
    return CacheDetect.run(fn);
  }

  /**
   * Iterates keys matching `pattern` (`*` is the only wildcard; `?`, `[`, `]` are literal). Protection state is
   * never listed.
   */
  async *scan(pattern: string): AsyncIterable<string> {
    assertCacheKey(pattern, 'scan');
    this.counters.commands++;
    try {
      yield* this.backend.scan(pattern);
    } catch (error) {
      this.fail('scan', error, false);
    }
  }

  /** Iterates `[key, value]` pairs for keys matching `pattern`; keys that vanish meanwhile are skipped. */
  async *getMatch<T = unknown>(pattern: string): AsyncIterable<[string, T]> {
    for await (const key of this.scan(pattern)) {
      const value = await this.read(key);
      if (value !== MISS) yield [key, value as T];
    }
  }

  async expire(key: string, ttl: Duration): Promise<boolean> {
    assertCacheKey(key, 'expire');
    const ms = parsePositiveDuration(ttl, 'ttl');
    return this.guard('expire', false, () => this.backend.expire(key, ms));
  }

  /** Milliseconds left; `-1` when the key has no expiry, `-2` when it is missing. */
  async getExpire(key: string): Promise<number> {
    assertCacheKey(key, 'getExpire');
    return this.guard('getExpire', -2, () => this.backend.getExpire(key));
  }

  async exists(key: string): Promise<boolean> {
    assertCacheKey(key, 'exists');
    return this.guard('exists', false, () => this.backend.exists(key));
  }

  /** `'PONG'`, or `message` echoed. Throws {@link CacheBackendError} when the backend is unreachable, even in safe mode. */
  async ping(message?: string): Promise<string> {
    return this.guard('ping', '', () => this.backend.ping(message), true);
  }

  /**
   * Removes every key of this instance, protection state included (on Redis: `FLUSHDB` of the URL's database, on
   * every master in a cluster).
   */
  async clear(): Promise<void> {
    await this.guard('clear', undefined, () => this.backend.clear());
  }

  /**
   * Takes `key` for `ttl` with `token` only if nobody holds it. Locks are protection state: they live apart from
   * cache keys, so no `deleteMatch`, `@Invalidate` pattern or tag can release a held lock.
   */
  async setLock(key: string, token: string, ttl: Duration): Promise<boolean> {
    return (await this.tryLock(key, token, parsePositiveDuration(ttl, 'ttl'))) === 'acquired';
  }

  /**
   * Releases `key` only if it still holds `token`. When the backend fails, the release is retried in the
   * background (for at most a minute) once it answers again, so the lock does not stay held until its TTL.
   */
  async unlock(key: string, token: string): Promise<boolean> {
    if (this.runtime.offFor('unlock')) return true;
    return this.guard('unlock', false, () =>
      this.backend.unlock(protectedKey(key), token).catch((error: unknown) => {
        this.lostLocks.remember(key, token);
        throw error;
      }),
    );
  }

  /**
   * Whether `key` is locked. With `wait`, polls every `step` (default 50 ms) and answers `false` as soon
   * as the lock is released, `true` if it is still held when `wait` has elapsed.
   */
  async isLocked(key: string, options: { wait?: Duration; step?: Duration } = {}): Promise<boolean> {
    const wait = options.wait === undefined ? 0 : parseDuration(options.wait, 'wait');
    const step = Math.max(1, parseDuration(options.step ?? 50, 'step'));
    const deadline = Date.now() + wait;
    for (;;) {
      const held = await this.guard('exists', false, () => this.backend.exists(protectedKey(key)), false, 'isLocked');
      if (!held) return false;
      if (Date.now() >= deadline) return true;
      await sleep(Math.min(step, Math.max(1, deadline - Date.now())));
    }
  }

  /**
   * Runs `fn` while holding `key` for at most `ttl`, and releases its own token afterwards even when `fn`
   * throws. In safe mode a backend failure runs `fn` without the lock (logged) rather than failing the call.
   * @throws LockedError when the lock is held and `wait` is `false` or has elapsed.
   * @example await cache.lock('reindex', '30s', () => this.reindex(), { wait: false });
   */
  async lock<T>(key: string, ttl: Duration, fn: () => T | Promise<T>, options: LockOptions = {}): Promise<T> {
    const ttlMs = parsePositiveDuration(ttl, 'ttl');
    const wait =
      options.wait === false
        ? 0
        : options.wait === undefined || options.wait === true
          ? ttlMs
          : parseDuration(options.wait, 'wait');
    const step = Math.max(1, parseDuration(options.step ?? 50, 'step'));
    const token = randomUUID();
    const deadline = Date.now() + wait;
    for (;;) {
      const attempt = await this.tryLock(key, token, ttlMs);
      if (attempt === 'failed') return fn();
      if (attempt === 'acquired') break;
      if (Date.now() >= deadline) throw new LockedError(key);
      await sleep(Math.min(step, Math.max(1, deadline - Date.now())));
    }
    try {
      return await fn();
    } finally {
      await this.unlock(key, token);
    }
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
    return {
      cache: this.name ?? 'default',
      url: this.config.displayUrl,
      since: this.collector.since,
      methods: this.collector.methods(now),
      backends: this.backendStats(),
      history: this.collector.history(now),
    };
  }

  private backendStats(): BackendStats[] {
    const of = (prefix: string, url: string, c: BackendCounters): BackendStats => ({
      prefix,
      url,
      commands: c.commands,
      errors: c.errors,
      hits: c.hits,
      misses: c.misses,
    });
    if (!(this.backend instanceof PrefixRouterBackend)) return [of('', this.config.displayUrl, this.counters)];
    const urls = new Map((this.config.prefixes ?? []).map((route) => [route.prefix, route.config.displayUrl]));
    return this.backend
      .counters()
      .map(({ prefix, counters }) => of(prefix, prefix ? (urls.get(prefix) ?? '') : this.config.displayUrl, counters));
  }

  /** Closes connections and timers. Called by Nest on application shutdown; safe to call twice. */
  close(): Promise<void> {
    this.collector.close();
    this.lostLocks.close();
    this.closed ??= this.backend.close();
    return this.closed;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /**
   * Counts one call against a fixed-window rate limit (`@RateLimit`): at most `limit` per `period` ms; the
   * first call over the limit bans `key` for `banTtl` ms. Atomic on every backend.
   */
  fixedWindow(key: string, limit: number, period: number, banTtl: number): Promise<WindowState> {
    return this.protect('fixedWindow', (backend) => backend.fixedWindow(protectedKey(key), limit, period, banTtl));
  }

  /** Counts one call against a sliding-window rate limit (`@SlidingRateLimit`). Atomic on every backend. */
  slidingWindow(key: string, limit: number, period: number): Promise<WindowState> {
    return this.protect('slidingWindow', (backend) => backend.slidingWindow(protectedKey(key), limit, period));
  }

  /** One atomic step of the circuit breaker stored at `key` (`@CircuitBreaker`). */
  circuit(key: string, op: CircuitOp, settings: CircuitSettings): Promise<CircuitState> {
    return this.protect('circuit', (backend) => backend.circuit(protectedKey(key), op, settings));
  }

  /**
   * Reads the protection state value named `name` (the `@PerfDegradation` marker): {@link MISS} when there is
   * none. Request directives (`Cache-Control: no-cache`, `Clear-Site-Data`) never apply to it.
   */
  readState(name: string): Promise<unknown> {
    const key = protectedKey(name);
    return this.guard('get', undefined as unknown, () => this.backend.get(key), false, 'perf').then((raw) =>
      this.decode(key, raw),
    );
  }

  /** Stores the protection state value named `name` for `ttl` ms (the `@PerfDegradation` marker). */
  writeState(name: string, value: unknown, ttl: number): Promise<boolean> {
    const key = protectedKey(name);
    const raw = this.codec.encode(key, value);
    return this.guard('set', false, () => this.backend.set(key, raw, { ttl }), false, 'perf');
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
    const target = protectedKey(pattern);
    const reset = (backend: Backend) =>
      pattern.includes('*') ? backend.deleteMatch(target) : backend.delete(target).then(Number);
    const removed = await this.guard('resetProtection', 0, () => reset(this.backend));
    return removed + (this.fallback ? await reset(this.fallback) : 0);
  }

  /**
   * Safe mode of the protective primitives: no answer made up on the spot would be honest (allowing every
   * call would switch rate limits and circuits off silently), so a backend failure falls back to state in
   * this process's memory, logged once per burst. Without safe mode the failure throws.
   */
  private async protect<T>(op: string, run: (backend: Backend) => Promise<T>): Promise<T> {
    if (this.runtime.offFor(op)) return run(SWITCHED_OFF);
    this.counters.commands++;
    try {
      return await run(this.backend);
    } catch (error) {
      this.fail(op, error, false, 'per-process memory state used instead');
      this.fallback ??= new MemoryBackend({ size: 10_000, checkInterval: 0 });
      return run(this.fallback);
    }
  }

  /**
   * One lock attempt that tells a held lock (`'held'`) from a backend failure (`'failed'`, logged in safe
   * mode), so callers can choose to proceed unlocked rather than wait on a backend that is down.
   */
  async tryLock(key: string, token: string, ttl: number): Promise<LockAttempt> {
    if (this.runtime.offFor('setLock')) return 'acquired';
    this.counters.commands++;
    try {
      return (await this.backend.setLock(protectedKey(key), token, ttl)) ? 'acquired' : 'held';
    } catch (error) {
      // The SET NX may have run with its reply lost: release it with our token once the backend is back.
      this.lostLocks.remember(key, token, ttl);
      this.fail('setLock', error, false);
      return 'failed';
    }
  }

  /** Decoder handed to a local layer: an invalid value is a local miss, logged when the Redis path decodes it. */
  private readonly decodeLocal = (key: string, raw: unknown): unknown => {
    const value = this.codec.decode(key, raw);
    return value === INVALID || value === OUTDATED ? MISS : value;
  };

  private decode(key: string, raw: unknown): unknown {
    if (raw === undefined) return MISS;
    const value = this.codec.decode(key, raw);
    if (value === OUTDATED) return MISS;
    if (value === INVALID) {
      this.failures.warn(
        `Value at "${key}" is unsigned, tampered with or not in the cashews format; it is treated as a miss.`,
      );
      return MISS;
    }
    return value;
  }

  /**
   * Safe mode in one place: backend failures become `fallback` (logged), or a {@link CacheBackendError}. A command
   * switched off at run time (`switched`, see lib/runtime-switch.ts) answers `fallback` without reaching the backend.
   */
  private async guard<T>(
    op: string,
    fallback: T,
    run: () => Promise<T>,
    alwaysThrow = false,
    switched = op,
  ): Promise<T> {
    if (this.runtime.offFor(switched)) return fallback;
    this.counters.commands++;
    try {
      return await run();
    } catch (error) {
      this.fail(op, error, alwaysThrow);
      return fallback;
    }
  }

  private fail(op: string, error: unknown, alwaysThrow: boolean, outcome = 'answered as a miss'): void {
    // Our own errors (a non-integer incr, an unstorable value) are usage errors, not backend failures.
    if (error instanceof CashewsError && !(error instanceof CacheBackendError)) throw error;
    this.counters.errors++;
    const reason = error instanceof Error ? error.message : String(error);
    const wrapped = new CacheBackendError(`Cache backend ${this.config.displayUrl} failed on ${op}: ${reason}`, {
      cause: error,
    });
    if (alwaysThrow || !this.config.safe) throw wrapped;
    this.failures.warn(`${wrapped.message} (safe mode: ${outcome})`);
  }
}

/** What switched-off protective commands run against: windows always allow, circuits stay closed. */
const SWITCHED_OFF = new DisabledBackend();

function ttlOf(ttl: Duration | undefined): number | undefined {
  return ttl === undefined ? undefined : parsePositiveDuration(ttl, 'ttl');
}

/** The TTL in ms of a stored value (`undefined`: no expiry); see {@link StoreTtl}. */
function storeTtl(ttl: StoreTtl | undefined, fallback: number | undefined): number | undefined {
  if (ttl === undefined) return fallback;
  if (ttl === 'never') return undefined;
  try {
    return parsePositiveDuration(ttl, 'ttl');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CashewsConfigError(
      `${reason} For a key that never expires write { ttl: 'never' }; omit ttl for the instance's default ` +
        `TTL (${fallback === undefined ? 'none configured: no expiry' : `${fallback} ms`}).`,
    );
  }
}
