import { CacheBackendError, CashewsError } from '../errors.js';
import { MISS } from '../miss.js';
import type { Primitive } from '../primitives/primitive.js';
import { BackendCounters } from '../stats/backend-counters.js';
import type { Backend } from './backend.interface.js';
import type { RawReader } from './raw-reader.js';

/**
 * Counts what reaches a backend (commands, failures, key hits and misses) for `cache.stats()`, by wrapping it:
 * the engine talks to this wrapper and never counts by itself, so every path to storage is counted once, and
 * a backend that routes to several others (the prefix router) counts per route by wrapping each of them.
 *
 * A usage error (a {@link CashewsError} other than {@link CacheBackendError}: a non-integer `incr`) is the
 * caller's, not the backend's, and is not counted as a failure. A read counts a hit when the backend answered a
 * value, even one the codec then refuses (tampered, outdated): the backend did serve it.
 */
export class CountingBackend implements Backend {
  readonly kind: Backend['kind'];
  readonly stores?: Backend['stores'];
  readonly counters = new BackendCounters();
  readonly getSync?: (key: string) => unknown;
  readonly getExpireSync?: (key: string) => number;
  readonly readLocal?: Backend['readLocal'];
  readonly countKeys?: () => Promise<number>;
  readonly commit?: Backend['commit'];
  readonly readWith?: Backend['readWith'];
  /** The counting wrapper of the last reader passed to {@link readWith} (the engine passes the same one each time). */
  private lastReader?: { reader: RawReader<unknown>; counting: RawReader<unknown> };

  constructor(readonly inner: Backend) {
    this.kind = inner.kind;
    this.stores = inner.stores;
    const { getSync, readLocal, countKeys, commit, getExpireSync } = inner;
    if (countKeys) this.countKeys = () => this.count(countKeys.call(inner));
    // A commit is one command, however many writes it carries (one MULTI/EXEC round trip on Redis).
    if (commit) this.commit = (writes) => this.count(commit.call(inner, writes));
    // Methods of the class, not closures per instance: the hit path of a memory or client-side read inlines them.
    if (getSync) this.getSync = this.countedGetSync;
    if (readLocal) this.readLocal = this.countedReadLocal;
    if (getExpireSync) this.getExpireSync = this.countedGetExpireSync;
    if (inner.readWith) this.readWith = this.countedReadWith;
  }

  private countedReadWith<T>(key: string, reader: RawReader<T>): Promise<T> {
    this.counters.commands++;
    return (this.inner.readWith as NonNullable<Backend['readWith']>)(key, this.counting(reader));
  }

  /** `reader`, counting what it is given as {@link get} counts the reply: a hit, a miss, or a failure. */
  private counting<T>(reader: RawReader<T>): RawReader<T> {
    const last = this.lastReader;
    if (last?.reader === reader) return last.counting as RawReader<T>;
    const counters = this.counters;
    const counting: RawReader<T> = {
      value: (key, raw) => {
        counters.read(raw !== undefined);
        return reader.value(key, raw);
      },
      failed: (key, error) => {
        if (isBackendFailure(error)) counters.errors++;
        return reader.failed(key, error);
      },
    };
    this.lastReader = { reader, counting };
    return counting;
  }

  private countedGetSync(key: string): unknown {
    const raw = (this.inner.getSync as (key: string) => unknown)(key);
    this.counters.commands++;
    this.counters.read(raw !== undefined);
    return raw;
  }

  private countedGetExpireSync(key: string): number {
    this.counters.commands++;
    return (this.inner.getExpireSync as (key: string) => number)(key);
  }

  private countedReadLocal(key: string, decode: (key: string, raw: unknown) => unknown): unknown {
    const value = (this.inner.readLocal as NonNullable<Backend['readLocal']>)(key, decode);
    // A local hit is a read this backend served; a local miss goes on to `get`, which counts it.
    if (value !== MISS) {
      this.counters.commands++;
      this.counters.hits++;
    }
    return value;
  }

  connect(): Promise<void> {
    return this.inner.connect();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  get(key: string): Promise<unknown> {
    const counters = this.counters;
    counters.commands++;
    return this.inner.get(key).then((raw) => {
      counters.read(raw !== undefined);
      return raw;
    }, this.failed);
  }

  getMany(keys: readonly string[]): Promise<unknown[]> {
    const counters = this.counters;
    counters.commands++;
    return this.inner.getMany(keys).then((raws) => {
      for (const raw of raws) counters.read(raw !== undefined);
      return raws;
    }, this.failed);
  }

  set(key: string, raw: unknown, options?: { ttl?: number; exist?: boolean }): Promise<boolean> {
    return this.count(this.inner.set(key, raw, options));
  }

  setMany(entries: ReadonlyArray<readonly [string, unknown]>, ttl?: number): Promise<void> {
    return this.count(this.inner.setMany(entries, ttl));
  }

  delete(key: string): Promise<boolean> {
    return this.count(this.inner.delete(key));
  }

  deleteMany(keys: readonly string[]): Promise<number> {
    return this.count(this.inner.deleteMany(keys));
  }

  async *scan(pattern: string): AsyncIterable<string> {
    this.counters.commands++;
    try {
      yield* this.inner.scan(pattern);
    } catch (error) {
      this.failed(error);
    }
  }

  deleteMatch(pattern: string): Promise<number> {
    return this.count(this.inner.deleteMatch(pattern));
  }

  expire(key: string, ttl: number): Promise<boolean> {
    return this.count(this.inner.expire(key, ttl));
  }

  getExpire(key: string): Promise<number> {
    return this.count(this.inner.getExpire(key));
  }

  exists(key: string): Promise<boolean> {
    return this.count(this.inner.exists(key));
  }

  ping(message?: string): Promise<string> {
    return this.count(this.inner.ping(message));
  }

  clear(): Promise<void> {
    return this.count(this.inner.clear());
  }

  run<A extends readonly unknown[], R>(primitive: Primitive<A, R>, key: string, ...args: A): Promise<R> {
    return this.count(this.inner.run(primitive, key, ...args));
  }

  setTagged(
    key: string,
    raw: unknown,
    tags: readonly string[],
    options?: { ttl?: number; exist?: boolean },
  ): Promise<boolean> {
    return this.count(this.inner.setTagged(key, raw, tags, options));
  }

  deleteTags(tags: readonly string[]): Promise<number> {
    return this.count(this.inner.deleteTags(tags));
  }

  private count<T>(promise: Promise<T>): Promise<T> {
    this.counters.commands++;
    return promise.then(undefined, this.failed);
  }

  /** Counts a backend failure and rethrows it (a usage error is rethrown uncounted). */
  private readonly failed = (error: unknown): never => {
    if (isBackendFailure(error)) this.counters.errors++;
    throw error;
  };
}

/** A failure of the backend, as opposed to a usage error (a {@link CashewsError} other than {@link CacheBackendError}). */
function isBackendFailure(error: unknown): boolean {
  return !(error instanceof CashewsError) || error instanceof CacheBackendError;
}
