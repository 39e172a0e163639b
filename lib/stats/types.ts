/**
 * Shapes of the usage statistics `CacheService.stats()` answers, the Prometheus exposition and the stats page
 * are built from. Every count is since the cache instance was created (this process only).
 */

import type { AdaptiveStats } from '../adaptive/types.js';

/** Circuit state of a `@CircuitBreaker` layer as this process last saw it. */
export type CircuitStateName = 'closed' | 'open' | 'half-open';

/** One decorator on one method (`ProductsService.findOne` + `cache`). */
export interface MethodStats {
  /** `ClassName.method`. */
  readonly method: string;
  /**
   * Decorator family (`cache`, `failover`, `hit`, `early`, `soft`, `locked`, `rate-limit`, `sliding-rate-limit`,
   * `circuit-breaker`, `perf-degradation`, `invalidate`); `#2`, `#3`… when one method carries it twice.
   */
  readonly strategy: string;
  /** Calls that entered this layer. */
  readonly calls: number;
  /** Calls answered with a fresh stored value. */
  readonly hits: number;
  /** Calls of a storing layer not answered from the cache: `calls - hits - stale`. 0 for other layers. */
  readonly misses: number;
  /** Calls answered with a stale value standing in for a failure (`@Failover`, `@Soft`). */
  readonly stale: number;
  /** Runs of what is below this layer (the method, or the next decorator) made for a caller. */
  readonly executions: number;
  /** Runs in the background (`@Early` refresh, `@HitCache` `updateAfter`); not in `executions`. */
  readonly refreshes: number;
  /** Runs (foreground or background) that threw. */
  readonly errors: number;
  /** Storing layers: calls answered without running the method for that call (`calls - executions`): hits plus callers that shared a concurrent run. */
  readonly executionsAvoided: number;
  /** Mean duration (ms) of successful runs below this layer; 0 before the first one. */
  readonly meanDurationMs: number;
  /** `meanDurationMs × hits`. */
  readonly timeSavedMs: number;
  /** `hits / calls` for storing layers (0 when there were no calls). */
  readonly hitRatio: number;
  /** Calls refused without running: over a rate limit, or failed fast by an open circuit. */
  readonly rejections: number;
  /** `@CircuitBreaker` layers only. */
  readonly circuit?: CircuitStateName;
  /** `@Adaptive` layers only: what it decided, why, and since when. */
  readonly adaptive?: AdaptiveStats;
}

/** Commands one backend (the instance's, or one prefix route's) served. */
export interface BackendStats {
  /** The route's prefix, or `''` for the main URL (every key no prefix claims). */
  readonly prefix: string;
  /** Backend URL, password masked. */
  readonly url: string;
  /** Commands sent to it (reads served by a client-side layer included). */
  readonly commands: number;
  /** Commands that failed (connection lost, timeout, script error). */
  readonly errors: number;
  /** Key reads (`get`, each key of `getMany`) that found a value. */
  readonly hits: number;
  /** Key reads that found nothing. */
  readonly misses: number;
}

/** One bucket of the hit-ratio history (storing layers of the instance, summed). */
export interface HistoryBucket {
  /** Bucket start, epoch ms. */
  readonly at: number;
  readonly hits: number;
  readonly misses: number;
  readonly stale: number;
}

/** Everything one cache instance knows. */
export interface CacheStats {
  /** Instance name, `'default'` for the unnamed one. */
  readonly cache: string;
  readonly url: string;
  /** Epoch ms when counting started (instance creation). */
  readonly since: number;
  readonly methods: readonly MethodStats[];
  /** One entry per backend: the main URL first, then each prefix route. */
  readonly backends: readonly BackendStats[];
  /** The last {@link HISTORY_BUCKETS} buckets of {@link HISTORY_BUCKET_MS}, oldest first; the last one is in progress. */
  readonly history: readonly HistoryBucket[];
  /** Counters of the instance's command hooks that keep some (e.g. `valueSizeLimit`), in pipeline order. */
  readonly hooks: ReadonlyArray<{ readonly name: string; readonly stats: Readonly<Record<string, number>> }>;
}

/**
 * Width of one history bucket, in milliseconds.
 * @example
 * ```ts
 * const last = cache.stats().history.at(-1); // in progress
 * const elapsed = last ? Date.now() - last.at : 0; // less than HISTORY_BUCKET_MS
 * ```
 */
export const HISTORY_BUCKET_MS = 10_000;
/**
 * Buckets kept: 10 minutes.
 * @example
 * ```ts
 * const windowMs = HISTORY_BUCKETS * HISTORY_BUCKET_MS; // what `cache.stats().history` covers
 * ```
 */
export const HISTORY_BUCKETS = 60;
