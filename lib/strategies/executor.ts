import { CacheDetect } from '../detect/cache-detect.js';
import { KeyPlaceholderError } from '../errors.js';
import { directedCache, fixedTtl } from '../detect/directed-cache.js';
import type { KeyFunction, KeySource } from '../keys/key-template.js';
import { layerStats, LayerStats, type StatsOwner } from '../stats/layer-stats.js';
import { layerOptions } from './store-policy.js';
import type { Next, Strategy, StrategyCache, StrategyCall, LimitInfo } from './strategy.js';

/** One decorator on one method: the strategy to run and everything fixed at decoration time. */
export interface Layer<O = unknown> {
  /** Decorator family, e.g. `cache`, `failover`, `locked`. */
  readonly strategy: string;
  readonly run: Strategy<O>;
  readonly options: O;
  /** `ClassName:method`: base of default keys. */
  readonly base: string;
  readonly key: KeyFunction;
  /** Whether the user gave a key template or key function (HTTP default keys are built from the route otherwise). */
  readonly hasTemplate: boolean;
  /** `skipArgs` was given: the default key leaves some arguments out (refused on controllers' route-based keys). */
  readonly skipsArgs?: boolean;
  readonly prefix?: string;
  /** Name of the cache instance (`CashewsModule.forRoot(url, { name })`); default instance when unset. */
  readonly cacheName?: string;
  /** The layer stores results: on HTTP it only applies to `methods` and never with `@Res()`. */
  readonly storesResult: boolean;
  /** HTTP methods a storing layer applies to. Default GET and HEAD. */
  readonly methods?: readonly string[];
  /** The key template reads `{req.…}`: only valid on controller handlers. */
  readonly usesRequest: boolean;
  /**
   * Version segment of default keys (`v<version>` after the base): the decorator's `version`, or a
   * fingerprint of the method source. Unset on layers built by hand.
   */
  readonly version?: string;
  /**
   * Default key when no template is given: `'method'` is `ClassName:method` alone (one circuit per method);
   * `'client'` adds the HTTP client (`req.ip`) on controllers (rate limits). Unset: the arguments or route.
   */
  readonly defaultKey?: 'method' | 'client';
  /**
   * @internal Usage counters of the last cache instance this layer ran against (see `layerStats`): kept on the
   * layer so that counting a call costs no lookup.
   */
  statsSlot?: LayerStats;
}

/** How a call reached the executor: the decorated target, its arguments, and an optional key override. */
export interface Invocation {
  readonly target: string;
  readonly source: KeySource;
  /** Builds the key of a layer when the adapter knows better (HTTP default keys). */
  readonly keyOf?: (layer: Layer) => string;
  /** Receives rate-limit state (HTTP: `X-RateLimit-*` headers). */
  readonly onLimit?: (info: LimitInfo) => void;
}

/** Hooks the adapters provide; the executor itself knows nothing about Nest or logging. */
export interface ExecutorHooks {
  cacheFor(layer: Layer): StrategyCache & {
    getExpire(key: string): Promise<number>;
    /** Commands switched off at run time (`CacheService.disabling`); layers always run without it. */
    readonly runtime?: { skips(layer: Layer): boolean };
    /** Usage statistics of the instance (`CacheService.stats()`); calls are not counted without it. */
    readonly collector?: StatsOwner & { readonly create: (layer: Layer) => LayerStats };
  };
  onBackgroundError(target: string, error: unknown): void;
  /**
   * A strict key template placeholder rendered `undefined` for a call (see {@link keyOrMissing}): `skipped`
   * (the call ran without the layer), `refused` (the call failed with the error) or `client` (a controller rate
   * limit counted the client instead). Adapters log it once per layer and placeholder.
   */
  onMissingKeyPart?(layer: Layer, target: string, error: KeyPlaceholderError, outcome: MissingKeyOutcome): void;
}

export type MissingKeyOutcome = 'skipped' | 'refused' | 'client';

const pending = new Set<Promise<unknown>>();

/** Resolves when every background refresh started so far has finished (for shutdown and tests). */
export async function backgroundSettled(): Promise<void> {
  while (pending.size) await Promise.allSettled([...pending]);
}

/**
 * Runs a method through its layers, outermost first. The interceptor (controllers), the provider
 * wrapper and `CacheService.wrap` all come here, so no strategy exists twice.
 */
export function execute(
  layers: readonly Layer[],
  invocation: Invocation,
  hooks: ExecutorHooks,
  method: Next,
): Promise<unknown> {
  if (layers.length === 1) {
    const layer = layers[0];
    return bind(layer, () => keyOf(layer, invocation), invocation, hooks, method)();
  }
  const keys: string[] = [];
  const keyAt = (i: number): string => {
    let key = keys[i];
    if (key !== undefined) return key;
    const layer = layers[i];
    key = keyOf(layer, invocation);
    // Storing layers of one method must not share an entry (nor a single flight, which would wait on
    // itself): the outer one keeps the key, an inner one with the same key gets `:<strategy>` appended.
    if (layer.storesResult) {
      for (let j = 0; j < i; j++) {
        const outer = layers[j];
        if (outer.storesResult && outer.cacheName === layer.cacheName && keyOrMissing(() => keyAt(j)) === key) {
          key = `${key}:${layer.strategy}`;
          j = -1; // the suffixed key is checked against every outer layer again
        }
      }
    }
    return (keys[i] = key);
  };
  let chain = method;
  for (let i = layers.length - 1; i >= 0; i--) {
    const index = i;
    chain = bind(layers[i], () => keyAt(index), invocation, hooks, chain);
  }
  return chain();
}

function keyOf(layer: Layer, invocation: Invocation): string {
  return invocation.keyOf ? invocation.keyOf(layer) : layer.key(invocation.source);
}

/** The key, or the error when a placeholder of its template rendered `undefined` (other errors propagate). */
function keyOrMissing(keyFor: () => string): string | KeyPlaceholderError {
  try {
    return keyFor();
  } catch (error) {
    if (error instanceof KeyPlaceholderError) return error;
    throw error;
  }
}

/**
 * A call whose key has a placeholder that rendered `undefined` never shares an entry or a bucket with other such
 * calls. A layer that only saves work or guards health (result-storing layers, circuit breaker, perf guard) steps
 * aside: the call runs below it, nothing is read or stored. A layer whose key is a promise of exclusivity or a
 * quota (lock, rate limit on a provider) refuses the call with the error instead. Controllers' rate limits never
 * get here: the interceptor counts the client instead.
 */
function withoutKey(
  layer: Layer,
  invocation: Invocation,
  hooks: ExecutorHooks,
  error: KeyPlaceholderError,
  next: Next,
) {
  const skip = layer.storesResult || layer.defaultKey === 'method';
  hooks.onMissingKeyPart?.(layer, invocation.target, error, skip ? 'skipped' : 'refused');
  return skip ? next() : Promise.reject(error);
}

function bind(layer: Layer, keyFor: () => string, invocation: Invocation, hooks: ExecutorHooks, next: Next): Next {
  return () => {
    const base = hooks.cacheFor(layer);
    // Run-time switch (`cache.disabling()`, `cache.disable()`): a layer whose commands are all off steps aside.
    if (base.runtime?.skips(layer)) return next();
    // A decorator without `ttl` runs with options built from this instance's default TTL.
    const options = layerOptions(layer, base);
    // Usage statistics: one record per layer and instance, plain counters (see lib/stats/).
    const collector = base.collector;
    const stats = layerStats(layer, collector, collector ? collector.create : detached);
    stats.calls++;
    const directives = CacheDetect.directives();
    const cache = directives ? directedCache(base, directives, fixedTtl(options)) : base;
    let key: string | KeyPlaceholderError;
    try {
      key = keyOrMissing(keyFor);
    } catch (error) {
      // A key function that throws (or returns a non-string) fails this call as a rejection, not synchronously.
      return Promise.reject(error);
    }
    if (typeof key !== 'string') return withoutKey(layer, invocation, hooks, key, next);
    let inBackground = false;
    const call: StrategyCall = {
      target: invocation.target,
      args: invocation.source.args,
      key,
      source: invocation.source,
      async report(hit) {
        if (hit.stale) stats.stale++;
        else stats.hits++;
        if (!CacheDetect.active()) return;
        const served = hit.key ?? key;
        const ttl = await cache.getExpire(served);
        const full = fixedTtl(options);
        const age = full !== undefined && ttl >= 0 ? Math.max(0, full - ttl) : undefined;
        CacheDetect.report({ ...hit, key: served, ttl, ...(age === undefined ? {} : { age }) });
      },
      background(work) {
        // Runs of `next` from here on are background refreshes, not executions made for this caller.
        inBackground = true;
        const task = work()
          .catch((error: unknown) => hooks.onBackgroundError(invocation.target, error))
          .finally(() => pending.delete(task));
        pending.add(task);
      },
      reportLimit(info: LimitInfo) {
        if (!info.allowed) stats.rejections++;
        invocation.onLimit?.(info);
      },
      reportCircuit(state, check) {
        stats.observeCircuit(state, check);
      },
      reportRejection() {
        stats.rejections++;
      },
    };
    return layer.run(call, options, cache, () => measure(stats, next, inBackground));
  };
}

/** Counters of a layer run through hooks that keep no statistics (hand-built hooks in tests). */
const detached = (layer: Layer): LayerStats => new LayerStats(undefined, layer);

/** Runs what is below a layer, counting the run, its failure or its duration (misses only: hits never get here). */
async function measure(stats: LayerStats, next: Next, background: boolean): Promise<unknown> {
  if (background) stats.refreshes++;
  else stats.executions++;
  const started = performance.now();
  try {
    const result = await next();
    stats.durationSum += performance.now() - started;
    stats.durationCount++;
    return result;
  } catch (error) {
    stats.errors++;
    throw error;
  }
}
