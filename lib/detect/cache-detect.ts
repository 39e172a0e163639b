import { AsyncLocalStorage } from 'node:async_hooks';

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
}

const storage = new AsyncLocalStorage<CacheHit[]>();

/**
 * Per-request record of what was served from cache. Strategies report into it only while a scope is
 * active, so code that never asks pays nothing.
 *
 * @example
 * const { result, hits } = await CacheDetect.run(() => catalogue.list());
 */
export const CacheDetect = {
  /** Runs `fn` in a fresh detection scope and returns its result with the hits recorded inside. */
  async run<T>(fn: () => T | Promise<T>): Promise<{ result: T; hits: CacheHit[] }> {
    const hits: CacheHit[] = [];
    const result = await storage.run(hits, fn);
    return { result, hits };
  },

  /** Enters a scope for the rest of the current async execution (used by the HTTP middleware). */
  enter(): CacheHit[] {
    const hits: CacheHit[] = [];
    storage.enterWith(hits);
    return hits;
  },

  /** Hits of the current scope, or `undefined` outside any scope. */
  current(): readonly CacheHit[] | undefined {
    return storage.getStore();
  },

  /** Whether a scope is listening, so reporters can skip the extra TTL lookup otherwise. */
  active(): boolean {
    return storage.getStore() !== undefined;
  },

  report(hit: CacheHit): void {
    storage.getStore()?.push(hit);
  },
};
