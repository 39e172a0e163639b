import { CashewsConfigError } from '../errors.js';
import type { CacheEngine } from './cache-engine.js';

/**
 * The engine behind each `CacheService` facade. Kept out of the facade's own members so that the public type
 * shows only the documented API; the executor, the stats routes and the testing helpers reach the engine here.
 */
const engines = new WeakMap<object, CacheEngine>();

/** Called by the `CacheService` constructor. */
export function attachEngine(service: object, engine: CacheEngine): void {
  engines.set(service, engine);
}

/** The engine of a cache instance; @throws CashewsConfigError for an object that is not one (a test double). */
export function engineOf(service: object): CacheEngine {
  const engine = engines.get(service);
  if (!engine) {
    throw new CashewsConfigError(
      'This object is not a cache instance created by createCache() or CashewsModule.forRoot(): decorators and ' +
        'stats need a real instance. In tests, use a mem:// instance instead of a stand-in for CacheService.',
    );
  }
  return engine;
}
