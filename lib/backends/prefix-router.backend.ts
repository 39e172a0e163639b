import type { Backend } from './backend.interface.js';
import { MISS } from '../miss.js';

type LocalReader = { readLocal(key: string, decode: (key: string, raw: unknown) => unknown): unknown };
type SyncReader = { getSync(key: string): unknown };
type AnyMethod = (...args: unknown[]) => unknown;

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
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class PrefixRouterBackend {
  readonly kind: 'memory' | 'redis';
  private readonly routes: ReadonlyArray<{ prefix: string; backend: Backend }>;
  private readonly all: readonly Backend[];

  constructor(
    readonly fallback: Backend,
    routes: ReadonlyArray<{ prefix: string; backend: Backend }>,
  ) {
    this.routes = [...routes].sort((a, b) => b.prefix.length - a.prefix.length);
    this.all = [fallback, ...this.routes.map((route) => route.backend)];
    this.kind = this.all.every((backend) => backend.kind === 'memory') ? 'memory' : 'redis';
    // Keyed commands this class does not define (e.g. added to Backend by other features): route by key.
    const own = new Set(Object.getOwnPropertyNames(PrefixRouterBackend.prototype));
    for (const name of methodNames(fallback)) {
      if (own.has(name) || name === 'constructor') continue;
      (this as unknown as Record<string, AnyMethod>)[name] = (key: unknown, ...rest: unknown[]) => {
        const target = this.route(String(key)) as unknown as Record<string, AnyMethod>;
        if (typeof target[name] !== 'function') {
          throw new TypeError(`Backend for key "${String(key)}" has no method ${name}`);
        }
        return target[name](key, ...rest);
      };
    }
    if (this.kind === 'memory') {
      (this as unknown as { getSync: SyncReader['getSync'] }).getSync = (key) =>
        (this.route(key) as unknown as SyncReader).getSync(key);
    }
    if (this.all.some((backend) => 'readLocal' in backend)) {
      (this as unknown as { readLocal: LocalReader['readLocal'] }).readLocal = (key, decode) => {
        const backend = this.route(key);
        return 'readLocal' in backend ? (backend as unknown as LocalReader).readLocal(key, decode) : MISS;
      };
    }
  }

  /** The backend owning `key`: longest matching prefix, else the default one. */
  route(key: string): Backend {
    for (const route of this.routes) if (key.startsWith(route.prefix)) return route.backend;
    return this.fallback;
  }

  async connect(): Promise<void> {
    await Promise.all(this.all.map((backend) => backend.connect()));
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((backend) => backend.close()));
  }

  get(key: string): Promise<unknown> {
    return this.route(key).get(key);
  }

  async getMany(keys: readonly string[]): Promise<unknown[]> {
    const out: unknown[] = new Array(keys.length);
    await Promise.all(
      this.split(keys, (key) => key).map(async ([backend, indexes]) => {
        const values = await backend.getMany(indexes.map((i) => keys[i]));
        indexes.forEach((index, j) => (out[index] = values[j]));
      }),
    );
    return out;
  }

  set(key: string, raw: unknown, options?: { ttl?: number; exist?: boolean }): Promise<boolean> {
    return this.route(key).set(key, raw, options);
  }

  async setMany(entries: ReadonlyArray<readonly [string, unknown]>, ttl?: number): Promise<void> {
    await Promise.all(
      this.split(entries, ([key]) => key).map(([backend, indexes]) =>
        backend.setMany(
          indexes.map((i) => entries[i]),
          ttl,
        ),
      ),
    );
  }

  incr(key: string, by: number, ttl?: number): Promise<number> {
    return this.route(key).incr(key, by, ttl);
  }

  delete(key: string): Promise<boolean> {
    return this.route(key).delete(key);
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    const counts = await Promise.all(
      this.split(keys, (key) => key).map(([backend, indexes]) => backend.deleteMany(indexes.map((i) => keys[i]))),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  async *scan(pattern: string): AsyncIterable<string> {
    for (const backend of this.all) {
      for await (const key of backend.scan(pattern)) if (this.route(key) === backend) yield key;
    }
  }

  async deleteMatch(pattern: string): Promise<number> {
    let count = 0;
    for (const backend of this.all) {
      let batch: string[] = [];
      for await (const key of backend.scan(pattern)) {
        if (this.route(key) !== backend) continue;
        batch.push(key);
        if (batch.length >= BATCH) {
          count += await backend.deleteMany(batch);
          batch = [];
        }
      }
      if (batch.length) count += await backend.deleteMany(batch);
    }
    return count;
  }

  expire(key: string, ttl: number): Promise<boolean> {
    return this.route(key).expire(key, ttl);
  }

  getExpire(key: string): Promise<number> {
    return this.route(key).getExpire(key);
  }

  exists(key: string): Promise<boolean> {
    return this.route(key).exists(key);
  }

  /** Every backend must answer; the default backend's answer is returned. */
  async ping(message?: string): Promise<string> {
    const [answer] = await Promise.all(this.all.map((backend) => backend.ping(message)));
    return answer;
  }

  /** Each backend indexes the tagged keys it owns, so a tag is deleted on every one of them. */
  async deleteTags(tags: readonly string[]): Promise<number> {
    const counts = await Promise.all(this.all.map((backend) => backend.deleteTags(tags)));
    return counts.reduce((sum, n) => sum + n, 0);
  }

  /** Clears every routed backend (on Redis, `FLUSHDB` of each URL's database). */
  async clear(): Promise<void> {
    await Promise.all(this.all.map((backend) => backend.clear()));
  }

  setLock(key: string, token: string, ttl: number): Promise<boolean> {
    return this.route(key).setLock(key, token, ttl);
  }

  unlock(key: string, token: string): Promise<boolean> {
    return this.route(key).unlock(key, token);
  }

  /** Groups item indexes by the backend owning each item's key, keeping input order inside each group. */
  private split<T>(items: readonly T[], keyOf: (item: T) => string): Array<[Backend, number[]]> {
    const groups = new Map<Backend, number[]>();
    items.forEach((item, index) => {
      const backend = this.route(keyOf(item));
      const group = groups.get(backend);
      if (group) group.push(index);
      else groups.set(backend, [index]);
    });
    return [...groups];
  }
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
