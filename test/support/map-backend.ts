/**
 * A backend written the way a third party would write one (see the README, "Your own backend"), on nothing but the
 * public API: a Map of this process, TTLs on `Date.now()`, tag indexes, and primitives run by their `memory` code
 * (atomic because the store lives in this process only). `declined` primitives are refused with
 * UnsupportedPrimitiveError, as a backend without an atomic way to run them must.
 */
import { UnsupportedPrimitiveError, type Backend, type MemoryEntries, type Primitive } from '../../lib/index.js';

interface Entry {
  value: NonNullable<unknown>;
  /** `Date.now()` after which the entry is gone; `undefined`: no expiry. */
  expires?: number;
}

/** Protection state of the engine (locks, rate limits): left out of scans that do not name it. */
const PROTECTED = 'cashews:protect:';

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

export class MapBackend implements Backend {
  readonly kind = 'custom' as const;
  private readonly map = new Map<string, Entry>();
  /** Tag → keys, and key → tags (a deleted key leaves its tags). */
  private readonly tagKeys = new Map<string, Set<string>>();
  private readonly keyTags = new Map<string, Set<string>>();

  constructor(
    readonly stores: 'strings' | 'values' = 'strings',
    private readonly declined: readonly string[] = [],
  ) {}

  async connect(): Promise<void> {}
  async close(): Promise<void> {}

  /** The live entry at `key`; an expired one is dropped on the way. A TTL of `ms` still holds at `ms`. */
  private live(key: string): Entry | undefined {
    const entry = this.map.get(key);
    if (entry?.expires !== undefined && entry.expires < Date.now()) {
      this.remove(key);
      return undefined;
    }
    return entry;
  }

  private remove(key: string): boolean {
    const existed = this.map.delete(key);
    for (const tag of this.keyTags.get(key) ?? []) this.tagKeys.get(tag)?.delete(key);
    this.keyTags.delete(key);
    return existed;
  }

  private write(key: string, raw: unknown, ttl?: number): void {
    this.map.set(key, {
      value: raw as NonNullable<unknown>,
      expires: ttl === undefined ? undefined : Date.now() + ttl,
    });
  }

  async get(key: string): Promise<unknown> {
    return this.live(key)?.value;
  }

  async getMany(keys: readonly string[]): Promise<unknown[]> {
    return keys.map((key) => this.live(key)?.value);
  }

  async set(key: string, raw: unknown, options: { ttl?: number; exist?: boolean } = {}): Promise<boolean> {
    if (options.exist !== undefined && (this.live(key) !== undefined) !== options.exist) return false;
    this.write(key, raw, options.ttl);
    return true;
  }

  async setMany(entries: ReadonlyArray<readonly [string, unknown]>, ttl?: number): Promise<void> {
    for (const [key, raw] of entries) this.write(key, raw, ttl);
  }

  async delete(key: string): Promise<boolean> {
    return this.live(key) !== undefined && this.remove(key);
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    let count = 0;
    for (const key of keys) if (await this.delete(key)) count++;
    return count;
  }

  async *scan(pattern: string): AsyncIterable<string> {
    const regexp = globToRegExp(pattern);
    const skipProtected = !pattern.startsWith(PROTECTED);
    for (const key of [...this.map.keys()]) {
      if (skipProtected && key.startsWith(PROTECTED)) continue;
      if (regexp.test(key) && this.live(key)) yield key;
    }
  }

  async deleteMatch(pattern: string): Promise<number> {
    let count = 0;
    for await (const key of this.scan(pattern)) if (this.remove(key)) count++;
    return count;
  }

  async expire(key: string, ttl: number): Promise<boolean> {
    const entry = this.live(key);
    if (!entry) return false;
    entry.expires = Date.now() + ttl;
    return true;
  }

  async getExpire(key: string): Promise<number> {
    const entry = this.live(key);
    if (!entry) return -2;
    return entry.expires === undefined ? -1 : Math.max(0, entry.expires - Date.now());
  }

  async exists(key: string): Promise<boolean> {
    return this.live(key) !== undefined;
  }

  async ping(message?: string): Promise<string> {
    return message ?? 'PONG';
  }

  async clear(): Promise<void> {
    this.map.clear();
    this.tagKeys.clear();
    this.keyTags.clear();
  }

  async setTagged(
    key: string,
    raw: unknown,
    tags: readonly string[],
    options: { ttl?: number; exist?: boolean } = {},
  ): Promise<boolean> {
    if (!(await this.set(key, raw, options))) return false;
    for (const tag of tags) {
      if (!this.tagKeys.has(tag)) this.tagKeys.set(tag, new Set());
      this.tagKeys.get(tag)!.add(key);
      if (!this.keyTags.has(key)) this.keyTags.set(key, new Set());
      this.keyTags.get(key)!.add(tag);
    }
    return true;
  }

  async deleteTags(tags: readonly string[]): Promise<number> {
    let count = 0;
    for (const tag of tags) {
      for (const key of [...(this.tagKeys.get(tag) ?? [])]) {
        const live = this.live(key) !== undefined;
        if (this.remove(key) && live) count++;
      }
      this.tagKeys.delete(tag);
    }
    return count;
  }

  /** What primitives' memory code works on: the same entries, read and written synchronously. */
  private readonly entries: MemoryEntries = {
    get: (key) => this.live(key)?.value,
    set: (key, raw, ttl) => this.write(key, raw, ttl),
    delete: (key) => this.remove(key),
    ttlLeft: (key) => {
      const entry = this.live(key);
      if (!entry) return undefined;
      return entry.expires === undefined ? Infinity : Math.max(0, entry.expires - Date.now());
    },
    now: () => Date.now(),
  };

  async run<A extends readonly unknown[], R>(primitive: Primitive<A, R>, key: string, ...args: A): Promise<R> {
    if (this.declined.includes(primitive.name)) throw new UnsupportedPrimitiveError(primitive.name, 'map');
    return primitive.memory(this.entries, key, ...args);
  }
}
