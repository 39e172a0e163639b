import { LRUCache } from 'lru-cache';
import { systemClock, type Clock } from '../clock.js';
import { CacheValueError } from '../errors.js';
import { toRegExp } from '../keys/pattern.js';
import { isProtectedKey, scanSkipsProtected } from '../keys/protected-keys.js';
import { MemoryTagIndex } from '../tags/memory-tag-index.js';
import type { Backend } from './backend.interface.js';
import {
  circuitState,
  type CircuitOp,
  type CircuitSettings,
  type CircuitState,
  type WindowState,
} from './protect-types.js';

/** Options of {@link MemoryBackend}. */
export interface MemoryBackendOptions {
  /** Maximum number of entries; the least recently used is evicted first. */
  size: number;
  /** Period of the sweep that drops expired entries nobody reads any more (ms, 0 = no sweep). */
  checkInterval: number;
  /** Time source of the TTLs (default `performance.now()`); tests pass a fake one. Must not start at 0. */
  clock?: Clock;
}

const INTEGER = /^-?\d{1,16}$/;

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
    if (options.exist !== undefined && this.lru.has(key) !== options.exist) return false;
    this.lru.set(key, raw as NonNullable<unknown>, { ttl: options.ttl ?? 0 });
    return true;
  }

  async setMany(entries: ReadonlyArray<readonly [string, unknown]>, ttl?: number): Promise<void> {
    for (const [key, raw] of entries) this.lru.set(key, raw as NonNullable<unknown>, { ttl: ttl ?? 0 });
  }

  async incr(key: string, by: number, ttl?: number): Promise<number> {
    const current = this.lru.get(key);
    let base = 0;
    if (current !== undefined) {
      if (typeof current === 'number' && Number.isSafeInteger(current)) base = current;
      else if (typeof current === 'string' && INTEGER.test(current)) base = Number(current);
      else throw new CacheValueError(`Cannot increment "${key}": the stored value is not an integer.`);
      // Keep the remaining TTL: incrementing must not extend or clear the expiry.
      const left = this.lru.getRemainingTTL(key);
      this.lru.set(key, base + by, { ttl: Number.isFinite(left) ? Math.max(1, left) : 0 });
    } else {
      this.lru.set(key, by, { ttl: ttl ?? 0 });
    }
    return base + by;
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
    const keys = [...this.lru.keys()].filter((key) => regexp.test(key) && !(skipProtected && isProtectedKey(key)));
    for (const key of keys) if (this.lru.has(key)) yield key;
  }

  async deleteMatch(pattern: string): Promise<number> {
    let count = 0;
    for await (const key of this.scan(pattern)) if (this.lru.delete(key)) count++;
    return count;
  }

  async expire(key: string, ttl: number): Promise<boolean> {
    const raw = this.lru.get(key);
    if (raw === undefined) return false;
    this.lru.set(key, raw, { ttl });
    return true;
  }

  async getExpire(key: string): Promise<number> {
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
    const written = await this.set(key, raw, options);
    if (written) this.tagIndex.add(key, tags);
    return written;
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

  async setLock(key: string, token: string, ttl: number): Promise<boolean> {
    if (this.lru.has(key)) return false;
    this.lru.set(key, token, { ttl });
    return true;
  }

  async unlock(key: string, token: string): Promise<boolean> {
    if (this.lru.get(key) !== token) return false;
    return this.lru.delete(key);
  }

  // The protective primitives run synchronously between two awaits, so they are atomic in this process.

  async fixedWindow(key: string, limit: number, period: number, banTtl: number): Promise<WindowState> {
    const current = this.lru.get(key);
    if (!(current instanceof FixedWindow)) {
      this.lru.set(key, new FixedWindow(), { ttl: period });
      return { allowed: 1 <= limit, remaining: Math.max(0, limit - 1), reset: period };
    }
    const count = ++current.count;
    let reset = this.remaining(key, period);
    if (count === limit + 1) {
      this.lru.set(key, current, { ttl: banTtl });
      reset = banTtl;
    }
    return { allowed: count <= limit, remaining: Math.max(0, limit - count), reset };
  }

  async slidingWindow(key: string, limit: number, period: number): Promise<WindowState> {
    const now = Date.now();
    let log = this.lru.get(key);
    if (!(log instanceof SlidingLog)) log = new SlidingLog();
    const times = (log as SlidingLog).times;
    let expired = 0;
    while (expired < times.length && times[expired] <= now - period) expired++;
    if (expired) times.splice(0, expired);
    if (times.length < limit) {
      times.push(now);
      this.lru.set(key, log as SlidingLog, { ttl: period });
      return { allowed: true, remaining: limit - times.length, reset: times[0] + period - now };
    }
    return { allowed: false, remaining: 0, reset: Math.max(1, times[0] + period - now) };
  }

  async circuit(key: string, op: CircuitOp, s: CircuitSettings): Promise<CircuitState> {
    const now = Date.now();
    const found = this.lru.get(key);
    const c = found instanceof CircuitRecord ? found : new CircuitRecord();
    const open = () => {
      const next = new CircuitRecord();
      next.open = now + s.ttl;
      next.half = s.halfOpenTtl > 0 ? now + s.ttl + s.halfOpenTtl : 0;
      this.lru.set(key, next, { ttl: s.ttl + s.halfOpenTtl + s.period });
      return circuitState(2, s.ttl);
    };
    if (now < c.open) return circuitState(2, c.open - now);
    if (now < c.half) {
      if (op === 'check') {
        if (c.probe) return circuitState(3, c.half - now);
        c.probe = true;
        return circuitState(1, 0);
      }
      if (op === 'trial-ok') {
        this.lru.delete(key);
        return circuitState(0, 0);
      }
      if (op === 'trial-fail') return open();
      return circuitState(3, c.half - now);
    }
    if (op === 'check') return circuitState(0, 0);
    if (c.start < 0 || now - c.start >= s.period) {
      c.start = now;
      c.calls = 0;
      c.fails = 0;
    }
    c.calls++;
    if (op === 'fail' || op === 'trial-fail') c.fails++;
    if (c.calls >= s.minCalls && c.fails * 100 >= s.errorsRate * c.calls) return open();
    c.open = 0;
    c.half = 0;
    c.probe = false;
    this.lru.set(key, c, { ttl: s.period });
    return circuitState(0, 0);
  }

  private remaining(key: string, fallback: number): number {
    const left = this.lru.getRemainingTTL(key);
    return Number.isFinite(left) && left > 0 ? Math.round(left) : fallback;
  }
}

/** Internal state of the protective primitives, told apart from stored values by class. */
class FixedWindow {
  count = 1;
}

class SlidingLog {
  readonly times: number[] = [];
}

class CircuitRecord {
  open = 0;
  half = 0;
  probe = false;
  start = -1;
  calls = 0;
  fails = 0;
}
