import type { Backend } from './backend.interface.js';
import { MISS } from '../miss.js';
import { routingKey } from '../keys/protected-keys.js';
import { BackendCounters } from '../stats/backend-counters.js';

type LocalReader = { readLocal(key: string, decode: (key: string, raw: unknown) => unknown): unknown };
type SyncReader = { getSync(key: string): unknown };
type AnyMethod = (...args: unknown[]) => unknown;
/** One backend of the router with its usage counters; `prefix` is `''` for the default backend. */
interface Route {
  readonly prefix: string;
  readonly backend: Backend;
  readonly counters: BackendCounters;
}

/** Deletes found by a scan are sent in batches of this many keys. */
const BATCH = 500;

/**
 * Routes commands by key prefix (`prefixes` option): a key goes to the backend of the longest prefix it starts
 * with, or to the default backend. Multi-key commands are split per backend and reassembled in input order;
 * `scan`, `deleteMatch` and `clear` fan out to every backend.
 *
 * A backend only *owns* the keys that route to it: scans yield (and `deleteMatch` deletes) only those, so two
 * routes sharing one Redis database never see each other's keys twice.
 *
 * Kind and codec: the router reports `memory` only when every routed backend is memory (values then stay live
 * copies, as on `mem://`); as soon as one backend is Redis it reports `redis`, so the instance uses the string
 * codec everywhere (memory backends behind it then hold strings). One codec per instance keeps `secret`, value
 * types and `CacheService.backend` behaving the same whichever backend a key lands on.
 *
 * Commands added to {@link Backend} later whose first argument is a key are routed by that key automatically (see
 * the constructor); commands that are not keyed need an explicit method here.
 *
 * Usage statistics: every command counts against the backend it went to (commands, failures, and for reads hits
 * and misses), see {@link counters}.
 * @example
 * ```ts
 * const cache = await createCache('redis://127.0.0.1:6379/0', { prefixes: { 'tmp:': 'mem://?size=100' } });
 * console.log(cache.backend instanceof PrefixRouterBackend); // true: 'tmp:…' keys stay in this process
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class PrefixRouterBackend {
  readonly kind: 'memory' | 'redis';
  private readonly routes: readonly Route[];
  private readonly main: Route;
  private readonly all: readonly Backend[];
  private readonly entries: readonly Route[];

  constructor(
    /**
     * The main backend (the instance's URL): every key no prefix claims. Not a failover target: the name is kept
     * for compatibility; nothing falls back to it when a prefix route fails.
     */
    readonly fallback: Backend,
    routes: ReadonlyArray<{ prefix: string; backend: Backend }>,
  ) {
    this.routes = [...routes]
      .sort((a, b) => b.prefix.length - a.prefix.length)
      .map((route) => ({ ...route, counters: new BackendCounters() }));
    this.main = { prefix: '', backend: fallback, counters: new BackendCounters() };
    this.entries = [this.main, ...this.routes];
    this.all = this.entries.map((entry) => entry.backend);
    this.kind = this.all.every((backend) => backend.kind === 'memory') ? 'memory' : 'redis';
    // Keyed commands this class does not define (e.g. added to Backend by other features): route by key.
    const own = new Set(Object.getOwnPropertyNames(PrefixRouterBackend.prototype));
    for (const name of methodNames(fallback)) {
      if (own.has(name) || name === 'constructor') continue;
      (this as unknown as Record<string, AnyMethod>)[name] = (key: unknown, ...rest: unknown[]) => {
        const entry = this.pick(String(key));
        const target = entry.backend as unknown as Record<string, AnyMethod>;
        if (typeof target[name] !== 'function') {
          throw new TypeError(`Backend for key "${String(key)}" has no method ${name}`);
        }
        const result = target[name](key, ...rest);
        return result instanceof Promise ? counted(entry, result) : (entry.counters.commands++, result);
      };
    }
    if (this.kind === 'memory') {
      (this as unknown as { getSync: SyncReader['getSync'] }).getSync = (key) => {
        const entry = this.pick(key);
        const raw = (entry.backend as unknown as SyncReader).getSync(key);
        entry.counters.commands++;
        entry.counters.read(raw !== undefined);
        return raw;
      };
    }
    if (this.all.some((backend) => 'readLocal' in backend)) {
      (this as unknown as { readLocal: LocalReader['readLocal'] }).readLocal = (key, decode) => {
        const entry = this.pick(key);
        if (!('readLocal' in entry.backend)) return MISS;
        const value = (entry.backend as unknown as LocalReader).readLocal(key, decode);
        if (value !== MISS) {
          // A local hit is a read this backend served; a local miss goes on to `get`, which counts it.
          entry.counters.commands++;
          entry.counters.hits++;
        }
        return value;
      };
    }
  }

  /** The backend owning `key`: longest matching prefix, else the default one. */
  route(key: string): Backend {
    return this.pick(key).backend;
  }

  /** Usage counters per backend: the default backend (prefix `''`) first, then each route, longest prefix first. */
  counters(): Array<{ prefix: string; counters: BackendCounters }> {
    return this.entries.map(({ prefix, counters }) => ({ prefix, counters }));
  }

  /** A protection state key routes like the cache key it protects (see lib/keys/protected-keys.ts). */
  private pick(key: string): Route {
    const routed = routingKey(key);
    for (const route of this.routes) if (routed.startsWith(route.prefix)) return route;
    return this.main;
  }

  async connect(): Promise<void> {
    await Promise.all(this.all.map((backend) => backend.connect()));
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((backend) => backend.close()));
  }

  get(key: string): Promise<unknown> {
    const entry = this.pick(key);
    entry.counters.commands++;
    return entry.backend.get(key).then(
      (raw) => {
        entry.counters.read(raw !== undefined);
        return raw;
      },
      (error: unknown) => {
        entry.counters.errors++;
        throw error;
      },
    );
  }

  async getMany(keys: readonly string[]): Promise<unknown[]> {
    const out: unknown[] = new Array(keys.length);
    await Promise.all(
      this.split(keys, (key) => key).map(async ([entry, indexes]) => {
        const values = await counted(entry, entry.backend.getMany(indexes.map((i) => keys[i])));
        indexes.forEach((index, j) => {
          out[index] = values[j];
          entry.counters.read(values[j] !== undefined);
        });
      }),
    );
    return out;
  }

  set(key: string, raw: unknown, options?: { ttl?: number; exist?: boolean }): Promise<boolean> {
    const entry = this.pick(key);
    return counted(entry, entry.backend.set(key, raw, options));
  }

  async setMany(entries: ReadonlyArray<readonly [string, unknown]>, ttl?: number): Promise<void> {
    await Promise.all(
      this.split(entries, ([key]) => key).map(([entry, indexes]) =>
        counted(
          entry,
          entry.backend.setMany(
            indexes.map((i) => entries[i]),
            ttl,
          ),
        ),
      ),
    );
  }

  incr(key: string, by: number, ttl?: number): Promise<number> {
    const entry = this.pick(key);
    return counted(entry, entry.backend.incr(key, by, ttl));
  }

  delete(key: string): Promise<boolean> {
    const entry = this.pick(key);
    return counted(entry, entry.backend.delete(key));
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    const counts = await Promise.all(
      this.split(keys, (key) => key).map(([entry, indexes]) =>
        counted(entry, entry.backend.deleteMany(indexes.map((i) => keys[i]))),
      ),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  async *scan(pattern: string): AsyncIterable<string> {
    for (const entry of this.entries) {
      entry.counters.commands++;
      try {
        for await (const key of entry.backend.scan(pattern)) if (this.pick(key) === entry) yield key;
      } catch (error) {
        entry.counters.errors++;
        throw error;
      }
    }
  }

  async deleteMatch(pattern: string): Promise<number> {
    let count = 0;
    for (const entry of this.entries) {
      const backend = entry.backend;
      entry.counters.commands++;
      let batch: string[] = [];
      try {
        for await (const key of backend.scan(pattern)) {
          if (this.pick(key) !== entry) continue;
          batch.push(key);
          if (batch.length >= BATCH) {
            count += await backend.deleteMany(batch);
            batch = [];
          }
        }
        if (batch.length) count += await backend.deleteMany(batch);
      } catch (error) {
        entry.counters.errors++;
        throw error;
      }
    }
    return count;
  }

  expire(key: string, ttl: number): Promise<boolean> {
    const entry = this.pick(key);
    return counted(entry, entry.backend.expire(key, ttl));
  }

  getExpire(key: string): Promise<number> {
    const entry = this.pick(key);
    return counted(entry, entry.backend.getExpire(key));
  }

  exists(key: string): Promise<boolean> {
    const entry = this.pick(key);
    return counted(entry, entry.backend.exists(key));
  }

  /** Every backend must answer; the default backend's answer is returned. */
  async ping(message?: string): Promise<string> {
    const [answer] = await Promise.all(this.entries.map((entry) => counted(entry, entry.backend.ping(message))));
    return answer;
  }

  /** Each backend indexes the tagged keys it owns, so a tag is deleted on every one of them. */
  async deleteTags(tags: readonly string[]): Promise<number> {
    const counts = await Promise.all(this.entries.map((entry) => counted(entry, entry.backend.deleteTags(tags))));
    return counts.reduce((sum, n) => sum + n, 0);
  }

  /** Clears every routed backend (on Redis, `FLUSHDB` of each URL's database). */
  async clear(): Promise<void> {
    await Promise.all(this.entries.map((entry) => counted(entry, entry.backend.clear())));
  }

  setLock(key: string, token: string, ttl: number): Promise<boolean> {
    const entry = this.pick(key);
    return counted(entry, entry.backend.setLock(key, token, ttl));
  }

  unlock(key: string, token: string): Promise<boolean> {
    const entry = this.pick(key);
    return counted(entry, entry.backend.unlock(key, token));
  }

  /** Groups item indexes by the backend owning each item's key, keeping input order inside each group. */
  private split<T>(items: readonly T[], keyOf: (item: T) => string): Array<[Route, number[]]> {
    const groups = new Map<Route, number[]>();
    items.forEach((item, index) => {
      const entry = this.pick(keyOf(item));
      const group = groups.get(entry);
      if (group) group.push(index);
      else groups.set(entry, [index]);
    });
    return [...groups];
  }
}

/** Counts one command against `entry`, and its failure if it fails. */
function counted<T>(entry: Route, promise: Promise<T>): Promise<T> {
  entry.counters.commands++;
  return promise.then(undefined, (error: unknown) => {
    entry.counters.errors++;
    throw error;
  });
}

// Declaration merging: the router is a Backend, including keyed commands routed by the constructor.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface PrefixRouterBackend extends Backend {}

/** Method names of an object and its prototype chain (up to Object.prototype). */
function methodNames(object: object): string[] {
  const names = new Set<string>();
  for (let proto = Object.getPrototypeOf(object) as object | null; proto && proto !== Object.prototype;) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (descriptor && typeof descriptor.value === 'function') names.add(name);
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return [...names];
}
