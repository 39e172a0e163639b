import type { BatchWrite } from './batch-write.js';
import { applyInOrder } from '../transactions/apply-in-order.js';
import type { Backend } from './backend.interface.js';
import { CountingBackend } from './counting.backend.js';
import type { RawReader } from './raw-reader.js';
import { storesValues } from './stores-values.js';
import { MISS } from '../miss.js';
import { routingKey } from '../keys/protected-keys.js';
import type { Primitive } from '../primitives/primitive.js';
import type { BackendCounters } from '../stats/backend-counters.js';

/** One backend of the router, counted; `prefix` is `''` for the default backend. */
interface Route {
  readonly prefix: string;
  readonly backend: CountingBackend;
}

/** Deletes found by a scan are sent in batches of this many keys. */
const BATCH = 500;

/**
 * Routes commands by key prefix (`prefixes` option): a key goes to the backend of the longest prefix it starts
 * with, or to the default backend. Multi-key commands are split per backend and reassembled in input order;
 * `scan`, `deleteMatch` and `clear` fan out to every backend. Primitives ({@link run}) route by their key like any
 * keyed command, so a new primitive needs nothing here.
 *
 * A backend only *owns* the keys that route to it: scans yield (and `deleteMatch` deletes) only those, so two
 * routes sharing one Redis database never see each other's keys twice.
 *
 * Kind and codec: the router reports `memory` only when every routed backend keeps JS values (memory, or a custom
 * backend with `stores: 'values'`; values then stay live copies, as on `mem://`); as soon as one backend needs
 * strings (Redis, most custom backends) it reports `redis`, so the instance uses the string
 * codec everywhere (memory backends behind it then hold strings). One codec per instance keeps `secret`, value
 * types and `CacheService.backend` behaving the same whichever backend a key lands on.
 *
 * Usage statistics: every command counts against the backend it went to (commands, failures, and for reads hits
 * and misses), see {@link usage}.
 * @example
 * ```ts
 * const cache = await createCache('redis://127.0.0.1:6379/0', { prefixes: { 'tmp:': 'mem://?size=100' } });
 * console.log(cache.backend instanceof PrefixRouterBackend); // true: 'tmp:…' keys stay in this process
 * ```
 */
export class PrefixRouterBackend implements Backend {
  readonly kind: 'memory' | 'redis';
  /** Present when every routed backend reads synchronously (all memory). */
  readonly getSync?: (key: string) => unknown;
  /** Present when every routed backend answers expiries synchronously (all memory). */
  readonly getExpireSync?: (key: string) => number;
  /** Present when a routed backend has a local layer (`client_side`); keys of the others answer `MISS`. */
  readonly readLocal?: (key: string, decode: (key: string, raw: unknown) => unknown) => unknown;
  /**
   * Present when a routed backend reads through a reader (a single Redis server, see RawReader): each key is read by
   * the backend owning it, through the reader where it can, else by its `get`.
   */
  readonly readWith?: <T>(key: string, reader: RawReader<T>) => Promise<T>;
  /** The prefix routes, longest prefix first. */
  private readonly routes: readonly Route[];
  private readonly main: Route;
  /** The default backend first, then the routes. */
  private readonly entries: readonly Route[];
  /**
   * What the instance's hooks put in front of every key (`addPrefix`): stripped before matching, so routes name
   * keys as the caller gives them (see lib/pipeline/route-keys.ts).
   */
  private under = '';

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
      .map(({ prefix, backend }) => ({ prefix, backend: new CountingBackend(backend) }));
    this.main = { prefix: '', backend: new CountingBackend(fallback) };
    this.entries = [this.main, ...this.routes];
    this.kind = this.entries.every(({ backend }) => storesValues(backend)) ? 'memory' : 'redis';
    if (this.entries.every(({ backend }) => backend.getSync)) {
      this.getSync = (key) => this.pick(key).backend.getSync!(key);
    }
    if (this.entries.every(({ backend }) => backend.getExpireSync)) {
      this.getExpireSync = (key) => this.pick(key).backend.getExpireSync!(key);
    }
    if (this.entries.some(({ backend }) => backend.readWith)) {
      this.readWith = <T>(key: string, reader: RawReader<T>) => {
        const { backend } = this.pick(key);
        if (backend.readWith) return backend.readWith(key, reader);
        return backend.get(key).then(
          (raw) => reader.value(key, raw),
          (error: unknown) => reader.failed(key, error),
        );
      };
    }
    if (this.entries.some(({ backend }) => backend.readLocal)) {
      this.readLocal = (key, decode) => {
        const { backend } = this.pick(key);
        return backend.readLocal ? backend.readLocal(key, decode) : MISS;
      };
    }
  }

  /** The backend owning `key` (as stored): longest matching prefix, else the default one. */
  route(key: string): Backend {
    return this.pick(key).backend.inner;
  }

  /** The route prefixes, longest first. */
  get prefixes(): readonly string[] {
    return this.routes.map(({ prefix }) => prefix);
  }

  /** The prefix of the route owning `key` (as stored); `''` for the default backend. */
  routePrefix(key: string): string {
    return this.pick(key).prefix;
  }

  /**
   * Tells the router what the instance's hooks put in front of every key (`addPrefix('app:')`: `'app:'`), so that a
   * stored `app:tmp:1` goes where the caller's `tmp:1` routes. Set by the cache instance whenever its hooks change.
   */
  keysUnder(prefix: string): void {
    this.under = prefix;
  }

  /** Usage counters per backend: the default backend (prefix `''`) first, then each route, longest prefix first. */
  usage(): ReadonlyArray<{ readonly prefix: string; readonly counters: BackendCounters }> {
    return this.entries.map(({ prefix, backend }) => ({ prefix, counters: backend.counters }));
  }

  /**
   * A protection state key routes like the cache key it protects (see lib/keys/protected-keys.ts), and any key as
   * the caller gave it, without the instance's `addPrefix` ({@link keysUnder}).
   */
  private pick(key: string): Route {
    let routed = routingKey(key);
    if (this.under !== '' && routed.startsWith(this.under)) routed = routed.slice(this.under.length);
    for (const route of this.routes) if (routed.startsWith(route.prefix)) return route;
    return this.main;
  }

  /**
   * Each backend commits the writes of the keys it owns (atomically where it can): atomic per backend, not across
   * backends.
   */
  async commit(writes: readonly BatchWrite[]): Promise<void> {
    await Promise.all(
      this.split(writes, (write) => write.key).map(([{ backend }, indexes]) => {
        const own = indexes.map((i) => writes[i]);
        return backend.commit ? backend.commit(own) : applyInOrder(backend, own);
      }),
    );
  }

  async connect(): Promise<void> {
    await Promise.all(this.entries.map(({ backend }) => backend.connect()));
  }

  async close(): Promise<void> {
    await Promise.all(this.entries.map(({ backend }) => backend.close()));
  }

  get(key: string): Promise<unknown> {
    return this.pick(key).backend.get(key);
  }

  async getMany(keys: readonly string[]): Promise<unknown[]> {
    const out: unknown[] = new Array(keys.length);
    await Promise.all(
      this.split(keys, (key) => key).map(async ([{ backend }, indexes]) => {
        const values = await backend.getMany(indexes.map((i) => keys[i]));
        indexes.forEach((index, j) => (out[index] = values[j]));
      }),
    );
    return out;
  }

  set(key: string, raw: unknown, options?: { ttl?: number; exist?: boolean }): Promise<boolean> {
    return this.pick(key).backend.set(key, raw, options);
  }

  async setMany(entries: ReadonlyArray<readonly [string, unknown]>, ttl?: number): Promise<void> {
    await Promise.all(
      this.split(entries, ([key]) => key).map(([{ backend }, indexes]) =>
        backend.setMany(
          indexes.map((i) => entries[i]),
          ttl,
        ),
      ),
    );
  }

  delete(key: string): Promise<boolean> {
    return this.pick(key).backend.delete(key);
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    const counts = await Promise.all(
      this.split(keys, (key) => key).map(([{ backend }, indexes]) => backend.deleteMany(indexes.map((i) => keys[i]))),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  async *scan(pattern: string): AsyncIterable<string> {
    for (const entry of this.entries) {
      for await (const key of entry.backend.scan(pattern)) if (this.pick(key) === entry) yield key;
    }
  }

  /** One command per backend: its scan and the deletes of the keys it owns, counted as one. */
  async deleteMatch(pattern: string): Promise<number> {
    let count = 0;
    for (const entry of this.entries) {
      const { inner, counters } = entry.backend;
      counters.commands++;
      let batch: string[] = [];
      try {
        for await (const key of inner.scan(pattern)) {
          if (this.pick(key) !== entry) continue;
          batch.push(key);
          if (batch.length >= BATCH) {
            count += await inner.deleteMany(batch);
            batch = [];
          }
        }
        if (batch.length) count += await inner.deleteMany(batch);
      } catch (error) {
        counters.errors++;
        throw error;
      }
    }
    return count;
  }

  expire(key: string, ttl: number): Promise<boolean> {
    return this.pick(key).backend.expire(key, ttl);
  }

  getExpire(key: string): Promise<number> {
    return this.pick(key).backend.getExpire(key);
  }

  exists(key: string): Promise<boolean> {
    return this.pick(key).backend.exists(key);
  }

  /** Every backend must answer; the default backend's answer is returned. */
  async ping(message?: string): Promise<string> {
    const [answer] = await Promise.all(this.entries.map(({ backend }) => backend.ping(message)));
    return answer;
  }

  /** Clears every routed backend (on Redis, `FLUSHDB` of each URL's database). */
  async clear(): Promise<void> {
    await Promise.all(this.entries.map(({ backend }) => backend.clear()));
  }

  run<A extends readonly unknown[], R>(primitive: Primitive<A, R>, key: string, ...args: A): Promise<R> {
    return this.pick(key).backend.run(primitive, key, ...args);
  }

  setTagged(
    key: string,
    raw: unknown,
    tags: readonly string[],
    options?: { ttl?: number; exist?: boolean },
  ): Promise<boolean> {
    return this.pick(key).backend.setTagged(key, raw, tags, options);
  }

  /** Each backend indexes the tagged keys it owns, so a tag is deleted on every one of them. */
  async deleteTags(tags: readonly string[]): Promise<number> {
    const counts = await Promise.all(this.entries.map(({ backend }) => backend.deleteTags(tags)));
    return counts.reduce((sum, n) => sum + n, 0);
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
