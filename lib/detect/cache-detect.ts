import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestDirectives } from './request-directives.js';

/** One value served from cache during a request or a {@link CacheDetect.run} scope. */
export interface CacheHit {
  key: string;
  /** Strategy that served it: `cache`, `failover`, `hit`, `early`, `soft`. */
  strategy: string;
  /** Milliseconds the served entry has left (-1: no expiry), when known. */
  ttl?: number;
  /** `true` when a stale value stood in for a failed or pending recompute. */
  stale?: boolean;
  /** Name of the error a failover value stood in for. */
  exception?: string;
  /** Name of the stored error that was re-thrown instead of a result (`cacheErrors`). */
  error?: string;
  /** Milliseconds since the entry was stored, when the layer's TTL is a fixed duration. */
  age?: number;
}

/**
 * One detection scope. A scope opened inside another (`cache.detect` within a request) records its hits
 * in itself and in every enclosing scope, so the request still sees them, while the inner scope sees
 * only its own; concurrent scopes never share anything. Request directives are inherited.
 */
export interface DetectScope {
  readonly hits: CacheHit[];
  readonly parent?: DetectScope;
  readonly directives?: RequestDirectives;
  /**
   * A route's own layer served the response from cache (rather than a call the handler made while building a fresh
   * response around a cached value): `Cache-Control: public` is only ever sent then.
   */
  served?: boolean;
}

const storage = new AsyncLocalStorage<DetectScope>();

/**
 * Set once a scope may have to be found through the async context: a decorated provider method exists (it reports
 * to whatever scope its caller runs in), or code used {@link CacheDetect} itself. Until then the only reporters are
 * a route's own layers, which are handed their request's scope (see lib/detect/route-scope.ts), and no request
 * enters AsyncLocalStorage: on Node 20 the first `run` turns on a promise hook that every promise of the process pays
 * for from then on (about a tenth of a cached GET's CPU).
 */
let contextual = false;

/**
 * Set once any scope is entered in the async context (never cleared: a scope may still be running). Until then
 * {@link detectContext.current} answers without an AsyncLocalStorage read: a decorated provider called outside any
 * request (a job, a script) pays nothing for detection.
 */
let entered = false;

/** The library's own access to detection scopes; unlike {@link CacheDetect}, using it does not need the context. */
export const detectContext = {
  /** Whether scopes must be entered in the async context (see {@link contextual}). */
  needed(): boolean {
    return contextual;
  },

  /** Something other than a route's own layers may report or look for a scope from now on (process-wide). */
  need(): void {
    contextual = true;
  },

  /** The scope of the current async context, if any. */
  current(): DetectScope | undefined {
    return entered ? storage.getStore() : undefined;
  },

  /** Runs `fn` inside `scope` in the async context. */
  enter<T>(scope: DetectScope, fn: () => T): T {
    entered = true;
    return storage.run(scope, fn);
  },

  /** Records `hit` in `scope` and every scope enclosing it. */
  /**
   * `served`: the hit answered the route itself (one of its own layers, handed `scope` by the adapter), not a call the
   * route made; the scope then says so (see {@link DetectScope.served}).
   */
  report(scope: DetectScope | undefined, hit: CacheHit, served = false): void {
    if (served && scope) scope.served = true;
    for (let at = scope; at; at = at.parent) at.hits.push(hit);
  },

  /** Back to the state of a process that used nothing yet (tests of the no-context path). */
  reset(): void {
    contextual = false;
  },
};

/**
 * Per-request record of what was served from cache. Strategies report into it only while a scope is
 * active, so code that never asks pays nothing.
 *
 * @example
 * ```ts
 * async function findWithSource(products: ProductsService, id: string) {
 *   const { result, hits } = await CacheDetect.run(() => products.findOne(id));
 *   return { product: result, fromCache: hits.length > 0 };
 * }
 * ```
 */
export const CacheDetect = {
  /** Runs `fn` in a fresh detection scope and returns its result with the hits recorded inside. */
  async run<T>(fn: () => T | Promise<T>): Promise<{ result: T; hits: CacheHit[] }> {
    contextual = true;
    const scope = CacheDetect.scope();
    const result = await detectContext.enter(scope, fn);
    return { result, hits: scope.hits };
  },

  /** A new scope, nested in the current one (if any), with `directives` or the enclosing scope's. */
  scope(directives?: RequestDirectives, parent: DetectScope | undefined = storage.getStore()): DetectScope {
    return { hits: [], parent, directives: directives ?? parent?.directives };
  },

  /** Runs `fn` inside `scope` (e.g. one made per HTTP request by the middleware). */
  within<T>(scope: DetectScope, fn: () => T): T {
    contextual = true;
    return detectContext.enter(scope, fn);
  },

  /** Hits of the current scope, or `undefined` outside any scope. */
  current(): readonly CacheHit[] | undefined {
    contextual = true;
    return storage.getStore()?.hits;
  },

  /** What the current request asks of the cache (`Cache-Control`, `Clear-Site-Data`), if anything. */
  directives(): RequestDirectives | undefined {
    contextual = true;
    return storage.getStore()?.directives;
  },

  /** Whether a scope is listening, so reporters can skip the extra TTL lookup otherwise. */
  active(): boolean {
    contextual = true;
    return storage.getStore() !== undefined;
  },

  report(hit: CacheHit): void {
    contextual = true;
    detectContext.report(storage.getStore(), hit);
  },
};
