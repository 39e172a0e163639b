import { LRUCache } from 'lru-cache';
import { CacheValueError } from '../errors.js';
import { toRegExp } from '../keys/pattern.js';
import type { Backend } from './backend.interface.js';

/** Options of {@link MemoryBackend}. */
export interface MemoryBackendOptions {
  /** Maximum number of entries; the least recently used is evicted first. */
  size: number;
  /** Period of the sweep that drops expired entries nobody reads any more (ms, 0 = no sweep). */
  checkInterval: number;
}

const INTEGER = /^-?\d{1,16}$/;

/**
 * In-process backend on `lru-cache`. lru-cache already drops expired entries when they are read; the
 * unref'd sweep only bounds memory held by entries that expire unread.
 */
export class MemoryBackend implements Backend {
  readonly kind = 'memory' as const;
  private readonly lru: LRUCache<string, NonNullable<unknown>>;
  private sweep?: NodeJS.Timeout;

  constructor(options: MemoryBackendOptions) {
    this.lru = new LRUCache({ max: options.size, allowStale: false, updateAgeOnGet: false });
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
    // Snapshot first: callers may delete while iterating.
    const keys = [...this.lru.keys()].filter((key) => regexp.test(key));
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
}
