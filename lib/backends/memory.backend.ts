import { LRUCache } from 'lru-cache';
import { systemClock, type Clock } from '../clock.js';
import { toRegExp } from '../keys/pattern.js';
import { isProtectedKey, isReservedKey, scanSkipsProtected } from '../keys/protected-keys.js';
import { MemoryTagIndex } from '../tags/memory-tag-index.js';
import type { MemoryEntries, Primitive } from '../primitives/primitive.js';
import type { Backend } from './backend.interface.js';
import type { BatchWrite } from './batch-write.js';
import { incrPrimitive } from '../primitives/incr.primitive.js';

/** Options of {@link MemoryBackend}. */
export interface MemoryBackendOptions {
  /** Maximum number of entries; the least recently used is evicted first. */
  size: number;
  /** Period of the sweep that drops expired entries nobody reads any more (ms, 0 = no sweep). */
  checkInterval: number;
  /** Time source of the TTLs (default `performance.now()`); tests pass a fake one. Must not start at 0. */
  clock?: Clock;
}

/**
 * In-process backend on `lru-cache`. lru-cache already drops expired entries when they are read; the
 * unref'd sweep only bounds memory held by entries that expire unread (they count against `size` until then).
 * @example
 * ```ts
 * const cache = await createCache('mem://?size=1000&check_interval=30s');
 * console.log(cache.backend instanceof MemoryBackend); // true
 * ```
 */
export class MemoryBackend implements Backend {
  readonly kind = 'memory' as const;
  private readonly lru: LRUCache<string, NonNullable<unknown>>;
  private sweep?: NodeJS.Timeout;

  constructor(options: MemoryBackendOptions) {
    this.lru = new LRUCache({
      max: options.size,
      allowStale: false,
      updateAgeOnGet: false,
      // lru-cache otherwise reuses one reading of the clock until a timer ticks: while the event loop is busy,
      // TTLs read longer than set and expired entries are served. Costs a clock read per access to a TTL'd entry.
      perf: options.clock ?? systemClock,
      ttlResolution: 0,
      // A key leaves its tags when it leaves the cache (deleted, evicted, purged once expired), so the tag
      // index never holds more than `size` keys. An overwrite keeps its tags, as on Redis.
      dispose: (_value, key, reason) => {
        if (reason !== 'set') this.tagIndex.remove(key);
      },
    });
    if (options.checkInterval > 0) {
      this.sweep = setInterval(() => this.lru.purgeStale(), options.checkInterval);
      this.sweep.unref();
    }
  }

  async connect(): Promise<void> {}

  async close(): Promise<void> {
    if (this.sweep) clearInterval(this.sweep);
    this.sweep = undefined;
  }

  /** Synchronous read for the hot path: memory needs no promise per hit. */
  getSync(key: string): unknown {
    return this.lru.get(key);
  }

  async get(key: string): Promise<unknown> {
    return this.lru.get(key);
  }

  async getMany(keys: readonly string[]): Promise<unknown[]> {
    return keys.map((key) => this.lru.get(key));
  }

  async set(key: string, raw: unknown, options: { ttl?: number; exist?: boolean } = {}): Promise<boolean> {
    return this.write(key, raw, options);
  }

  /** `set` and `setTagged` without a promise: a commit applies them in one synchronous step. */
  private write(
    key: string,
    raw: unknown,
    options: { ttl?: number; exist?: boolean },
    tags?: readonly string[],
  ): boolean {
    if (options.exist !== undefined && this.lru.has(key) !== options.exist) return false;
    this.lru.set(key, raw as NonNullable<unknown>, { ttl: options.ttl ?? 0 });
    if (tags?.length) this.tagIndex.add(key, tags);
    return true;
  }

  async setMany(entries: ReadonlyArray<readonly [string, unknown]>, ttl?: number): Promise<void> {
    for (const [key, raw] of entries) this.lru.set(key, raw as NonNullable<unknown>, { ttl: ttl ?? 0 });
  }

  async delete(key: string): Promise<boolean> {
    return this.lru.delete(key);
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    let count = 0;
    for (const key of keys) if (this.lru.delete(key)) count++;
    return count;
  }

  async *scan(pattern: string): AsyncIterable<string> {
    const regexp = toRegExp(pattern);
    const skipProtected = scanSkipsProtected(pattern);
    // Snapshot first: callers may delete while iterating.
    const keys = [...this.lru.keys()].filter((key) => regexp.test(key) && !(skipProtected && isReservedKey(key)));
    for (const key of keys) if (this.lru.has(key)) yield key;
  }

  async deleteMatch(pattern: string): Promise<number> {
    let count = 0;
    for await (const key of this.scan(pattern)) if (this.lru.delete(key)) count++;
    return count;
  }

  async expire(key: string, ttl: number): Promise<boolean> {
    return this.expireNow(key, ttl);
  }

  private expireNow(key: string, ttl: number): boolean {
    const raw = this.lru.get(key);
    if (raw === undefined) return false;
    this.lru.set(key, raw, { ttl });
    return true;
  }

  async getExpire(key: string): Promise<number> {
    return this.getExpireSync(key);
  }

  getExpireSync(key: string): number {
    if (!this.lru.has(key)) return -2;
    const left = this.lru.getRemainingTTL(key);
    return Number.isFinite(left) ? Math.max(0, Math.round(left)) : -1;
  }

  async exists(key: string): Promise<boolean> {
    return this.lru.has(key);
  }

  async ping(message?: string): Promise<string> {
    return message ?? 'PONG';
  }

  /** Exact: the live entries but protection state (tags are indexed apart from the entries, not counted). */
  async countKeys(): Promise<number> {
    let count = 0;
    for (const key of this.lru.keys()) if (!isProtectedKey(key)) count++;
    return count;
  }

  async clear(): Promise<void> {
    this.lru.clear();
    this.tagIndex.clear();
  }

  // --- Tags ------------------------------------------------------------------------------------------------
  /** Tag → keys of the keys in the cache (see the `dispose` hook above). */
  readonly tagIndex = new MemoryTagIndex();

  async setTagged(
    key: string,
    raw: unknown,
    tags: readonly string[],
    options: { ttl?: number; exist?: boolean } = {},
  ): Promise<boolean> {
    return this.write(key, raw, options, tags);
  }

  async deleteTags(tags: readonly string[]): Promise<number> {
    let count = 0;
    for (const tag of tags) {
      for (const key of this.tagIndex.take(tag)) {
        // An expired entry not purged yet is dropped too, but only live ones are counted.
        const live = this.lru.has(key);
        if (this.lru.delete(key) && live) count++;
      }
    }
    return count;
  }

  // --- Transactions -----------------------------------------------------------------------------------------
  /**
   * All or nothing because nothing else runs in this process meanwhile: every write is applied before this
   * returns. As in Redis's `EXEC`, an increment of a value that is no integer (overwritten by someone else since
   * the transaction read it) fails alone, after the other writes are applied.
   */
  async commit(writes: readonly BatchWrite[]): Promise<void> {
    let failure: unknown;
    for (const write of writes) {
      if (write.op === 'set') this.write(write.key, write.raw, write, write.tags);
      else if (write.op === 'delete') this.lru.delete(write.key);
      else if (write.op === 'expire') this.expireNow(write.key, write.ttl);
      else {
        try {
          incrPrimitive.memory(this.entries, write.key, write.by, write.ttl);
        } catch (error) {
          failure ??= error;
        }
      }
    }
    if (failure) throw failure;
  }

  // --- Primitives (lib/primitives/) -------------------------------------------------------------------------
  /** What primitives work on: the LRU's entries, with the wall clock windows and circuits measure with. */
  private readonly entries: MemoryEntries = {
    get: (key) => this.lru.get(key),
    set: (key, raw, ttl) => void this.lru.set(key, raw, { ttl: ttl ?? 0 }),
    delete: (key) => this.lru.delete(key),
    ttlLeft: (key) => (this.lru.has(key) ? this.lru.getRemainingTTL(key) : undefined),
    now: () => Date.now(),
  };

  /** Primitives run synchronously between two awaits, so they are atomic in this process. */
  async run<A extends readonly unknown[], R>(primitive: Primitive<A, R>, key: string, ...args: A): Promise<R> {
    return primitive.memory(this.entries, key, ...args);
  }
}
