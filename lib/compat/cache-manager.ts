import { Logger } from '@nestjs/common';
import type { CacheService, StoreTtl } from '../cache.service.js';
import { CashewsConfigError } from '../errors.js';
import { engineOf } from '../engine/engine-of.js';
import { trackProcessWide } from '../strategies/executor.js';

/**
 * DI token of the cache-manager compatible provider: the same string as `@nestjs/cache-manager`'s
 * `CACHE_MANAGER`, so `@Inject(CACHE_MANAGER)` call sites only change their import. Registered by
 * `CashewsModule.forRoot(url, { cacheManagerCompat: true })` (remove `CacheModule` from the app at the same time:
 * both would provide this token).
 * @example
 * ```ts
 * ;@Injectable()
 * export class RatesService {
 *   constructor(@Inject(CACHE_MANAGER) private readonly cacheManager: CacheManager) {}
 * }
 * ```
 */
export const CACHE_MANAGER = 'CACHE_MANAGER';

/**
 * DI token of the cache-manager compatible provider of a named instance
 * (`forRoot(url, { name, cacheManagerCompat: true })`); without a name, {@link CACHE_MANAGER}.
 * @example
 * ```ts
 * ;@Injectable()
 * export class SessionsService {
 *   constructor(@Inject(getCacheManagerToken('sessions')) private readonly sessions: CacheManager) {}
 * }
 * ```
 */
export function getCacheManagerToken(name?: string): string {
  return name ? `${CACHE_MANAGER}:${name}` : CACHE_MANAGER;
}

/** A TTL in cache-manager's terms: milliseconds, or a function of the value (`wrap`). */
export type CacheManagerTtl<T> = number | ((value: T) => number);

/** Options object form of {@link CacheManager.wrap}'s third argument. */
export interface CacheManagerWrapOptions<T> {
  /** Milliseconds, or a function of the computed value. Default: the instance's default TTL. */
  ttl?: CacheManagerTtl<T>;
  /** When the stored value has less than this many ms left, it is served and recomputed in the background. */
  refreshThreshold?: CacheManagerTtl<T>;
  /** `true`: answer `{ value, expires }` (`expires`: epoch ms, `undefined` without expiry). */
  raw?: boolean;
}

/** An entry of {@link CacheManager.mset}. */
export interface CacheManagerEntry<T> {
  key: string;
  value: T;
  /** Milliseconds; default: the instance's default TTL. */
  ttl?: number;
}

/**
 * The command API of cache-manager v6/v7 (`Cache` of `cache-manager` / `@nestjs/cache-manager`) over a cashews
 * instance, so code written as `@Inject(CACHE_MANAGER) cacheManager: Cache` keeps working while a team migrates
 * to `CacheService` and the decorators. Same method names, same millisecond TTLs, same answers:
 * - a TTL is a number of milliseconds; omitted: the instance's default TTL (`forRoot(url, { ttl })`, no expiry
 *   without one); `0` or `Infinity`: no expiry (cache-manager's meaning). A negative, `NaN` or non-number TTL is
 *   refused with {@link CashewsConfigError} rather than stored forever.
 * - `get`/`mget` answer `undefined` for a miss (v7); `ttl(key)` answers the expiry time as epoch ms, `undefined`
 *   for a missing key or one without expiry; `set` answers the value, `del`/`mdel`/`clear` answer `true`.
 * - `wrap` runs the function once per key among concurrent callers of this process, and with a
 *   `refreshThreshold` serves a value that is about to expire while recomputing it in the background.
 *
 * Differences: backend failures follow the instance's safe mode (a miss, logged) instead of rejecting;
 * `clear()` empties the whole instance (on Redis, `FLUSHDB` of its database); values are stored in the cashews
 * format, so cache-manager processes cannot read them; events (`on`/`off`) and `stores` are not offered;
 * `disconnect()` does nothing (the module closes the instance at shutdown).
 *
 * @example
 * ```ts
 * // app.module.ts: CashewsModule.forRoot(process.env.REDIS_URL ?? 'mem://', { ttl: '5m', cacheManagerCompat: true })
 * import { Inject, Injectable } from '@nestjs/common';
 * import { CACHE_MANAGER, type CacheManager } from 'nestjs-cashews';
 *
 * ;@Injectable()
 * export class RatesService {
 *   constructor(@Inject(CACHE_MANAGER) private readonly cacheManager: CacheManager) {}
 *
 *   async rates(): Promise<number[]> {
 *     return this.cacheManager.wrap('rates', () => Promise.resolve([1.08, 0.86]), 60_000);
 *   }
 * }
 * ```
 */
export class CacheManager {
  private readonly logger: Logger;

  constructor(
    /** The cashews instance underneath: the same keys, values and TTLs. */
    readonly cache: CacheService,
    /**
     * Takes each background recompute (`refreshThreshold`) so the application can wait for it at shutdown; the
     * module passes its registry's. Without it the recompute is only seen by `backgroundSettled()`.
     */
    private readonly background: (key: string, work: Promise<void>) => void = (_key, work) => trackProcessWide(work),
  ) {
    this.logger = new Logger(cache.name ? `Cashews:${cache.name}` : 'Cashews');
  }

  /**
   * The stored value, or `undefined` for a miss.
   * @example const value = await cacheManager.get<string>('key');
   */
  async get<T>(key: string): Promise<T | undefined> {
    return this.cache.get<T>(key);
  }

  /**
   * Stored values in the order of `keys`, `undefined` for each miss.
   * @example const [a, b] = await cacheManager.mget<string>(['key-1', 'key-2']);
   */
  async mget<T>(keys: string[]): Promise<Array<T | undefined>> {
    return this.cache.getMany<T>(keys);
  }

  /**
   * When `key` expires, as epoch milliseconds (cache-manager's answer, not the time left); `undefined` for a
   * missing key or one without expiry. For the time left use `CacheService.getExpire`.
   * @example const expiresAt = await cacheManager.ttl('key'); // e.g. Date.now() + 1000
   */
  async ttl(key: string): Promise<number | undefined> {
    const left = await this.cache.getExpire(key);
    return left >= 0 ? Date.now() + left : undefined;
  }

  /**
   * Stores `value` for `ttl` milliseconds (default: the instance's default TTL; `0`: no expiry) and answers it.
   * @example await cacheManager.set('key 2', 'value 2', 5000); // expires after 5 seconds
   */
  async set<T>(key: string, value: T, ttl?: number): Promise<T> {
    await this.cache.set(key, value, { ttl: storeTtl(ttl, `set("${key}")`) });
    return value;
  }

  /**
   * Stores several entries, each with its own TTL in milliseconds, and answers them with the TTL applied.
   * @example await cacheManager.mset([{ key: 'key-1', value: 'value 1' }, { key: 'key-2', value: 'value 2', ttl: 5000 }]);
   */
  async mset<T>(list: Array<CacheManagerEntry<T>>): Promise<Array<CacheManagerEntry<T>>> {
    const groups = new Map<StoreTtl | undefined, Array<[string, T]>>();
    for (const { key, value, ttl } of list) {
      const resolved = storeTtl(ttl, `mset("${key}")`);
      let group = groups.get(resolved);
      if (!group) groups.set(resolved, (group = []));
      group.push([key, value]);
    }
    for (const [ttl, entries] of groups) await this.cache.setMany(entries, { ttl });
    return list.map(({ key, value, ttl }) => ({ key, value, ttl: ttl ?? this.cache.defaultTtl }));
  }

  /**
   * Deletes `key`; answers `true` (as cache-manager does, whether or not it existed).
   * @example await cacheManager.del('key');
   */
  async del(key: string): Promise<boolean> {
    await this.cache.delete(key);
    return true;
  }

  /**
   * Deletes several keys; answers `true`.
   * @example await cacheManager.mdel(['key-1', 'key-2']);
   */
  async mdel(keys: string[]): Promise<boolean> {
    await this.cache.deleteMany(keys);
    return true;
  }

  /**
   * Empties the whole instance (protection state included, see `CacheService.clear`); answers `true`.
   * @example await cacheManager.clear();
   */
  async clear(): Promise<boolean> {
    await this.cache.clear();
    return true;
  }

  /**
   * Answers the stored value of `key`, or runs `fn` (once among concurrent callers of this process), stores its
   * result for `ttl` ms and answers it. With `refreshThreshold`, a stored value with less time left than that is
   * answered and recomputed in the background (failures logged). `{ raw: true }` answers `{ value, expires }`.
   * A stored `undefined` counts as a miss, as in cache-manager.
   * @example await cacheManager.wrap('key', () => fetchValue(), 5000, 3000);
   */
  wrap<T>(
    key: string,
    fn: () => T | Promise<T>,
    ttl?: CacheManagerTtl<T>,
    refreshThreshold?: CacheManagerTtl<T>,
  ): Promise<T>;
  wrap<T>(
    key: string,
    fn: () => T | Promise<T>,
    options: CacheManagerWrapOptions<T> & { raw: true },
  ): Promise<CacheManagerRawEntry<T>>;
  wrap<T>(key: string, fn: () => T | Promise<T>, options: CacheManagerWrapOptions<T>): Promise<T>;
  wrap<T>(
    key: string,
    fn: () => T | Promise<T>,
    ttlOrOptions?: CacheManagerTtl<T> | CacheManagerWrapOptions<T>,
    refreshThresholdArg?: CacheManagerTtl<T>,
  ): Promise<T | CacheManagerRawEntry<T>> {
    const { ttl, refreshThreshold, raw } =
      typeof ttlOrOptions === 'object' && ttlOrOptions !== null
        ? ttlOrOptions
        : { ttl: ttlOrOptions, refreshThreshold: refreshThresholdArg, raw: false };
    const ttlOf = (value: T): StoreTtl | undefined =>
      storeTtl(typeof ttl === 'function' ? ttl(value) : ttl, `wrap("${key}") ttl`);
    const store = async (value: T): Promise<number | undefined> => {
      const resolved = ttlOf(value);
      await this.cache.set(key, value, { ttl: resolved });
      const ms = resolved === undefined ? this.cache.defaultTtl : resolved === 'never' ? undefined : resolved;
      return ms === undefined ? undefined : Date.now() + (ms as number);
    };
    // `\0` keeps these flights apart from decorated methods' and getOrSet's, which share the same map.
    return engineOf(this.cache).singleFlight(`\0cache-manager:wrap\0${key}`, async () => {
      const stored = await this.cache.get<T>(key);
      if (stored === undefined) {
        const value = await fn();
        const expires = await store(value);
        return raw ? { value, expires } : value;
      }
      const left = await this.cache.getExpire(key);
      const threshold = typeof refreshThreshold === 'function' ? refreshThreshold(stored) : refreshThreshold;
      // No refresh for a key without expiry, as in cache-manager.
      if (threshold !== undefined && left >= 0 && left < threshold) this.refresh(key, fn, store);
      return raw ? { value: stored, expires: left >= 0 ? Date.now() + left : undefined } : stored;
    });
  }

  /** Does nothing: the instance belongs to the module, which closes it at application shutdown. */
  async disconnect(): Promise<undefined> {
    return undefined;
  }

  /** The instance name (`forRoot(url, { name })`), or `'default'`. */
  cacheId(): string {
    return this.cache.name ?? 'default';
  }

  /** One background recompute per key at a time; a failure is logged and leaves the current value. */
  private refresh<T>(key: string, fn: () => T | Promise<T>, store: (value: T) => Promise<unknown>): void {
    const work = engineOf(this.cache)
      .singleFlight(`\0cache-manager:refresh\0${key}`, async () => store(await fn()))
      .then(
        () => undefined,
        (error: unknown) => {
          const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          this.logger.warn(
            `cache-manager wrap("${key}"): background refresh failed (${reason}); the stored value stays.`,
          );
        },
      );
    this.background(key, work);
  }
}

/** `wrap(key, fn, { raw: true })`'s answer: the value and its expiry (epoch ms, `undefined` without expiry). */
export interface CacheManagerRawEntry<T> {
  value: T;
  expires: number | undefined;
}

/** A cache-manager TTL in ms as a cashews TTL: omitted → the instance default; `0`/`Infinity` → no expiry. */
function storeTtl(ttl: unknown, where: string): StoreTtl | undefined {
  if (ttl === undefined) return undefined;
  if (ttl === 0 || ttl === Infinity) return 'never';
  if (typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0) return ttl;
  throw new CashewsConfigError(
    `cache-manager ${where}: invalid ttl ${typeof ttl === 'number' ? String(ttl) : JSON.stringify(ttl)}. ` +
      `Accepted: milliseconds greater than zero, 0 for no expiry, or nothing for the instance's default TTL.`,
  );
}
