/** How `@Adaptive` stores results: not at all, as `@Cache` does, or as `@Early` does (refreshed before expiry). */
export type AdaptiveStore = 'none' | 'cache' | 'early';

/**
 * How `@Adaptive` guards against failures: not at all, a fallback to the last good value (`@Failover`), or a circuit
 * breaker (`@CircuitBreaker`) in front of the method with that fallback still in place.
 */
export type AdaptiveGuard = 'none' | 'failover' | 'circuit';

/** The limits the user set (`@Adaptive` options), in milliseconds. */
export interface AdaptiveBounds {
  /** Longest TTL a stored result gets. */
  readonly maxTtl: number;
  /** Oldest a served value may be: caps the TTL too, and bounds how long a last good value stands in for failures. */
  readonly maxStaleness: number;
  /** Shortest TTL worth storing: results that change faster are not cached. */
  readonly minTtl: number;
  /** A run at least this long is slow: hot keys of a slow method are refreshed early. */
  readonly slowRun: number;
  /** Length of an observation window: decisions are revisited once per window. */
  readonly window: number;
}

/** What `@Adaptive` does for a method now, and why. */
export interface AdaptiveDecision {
  readonly store: AdaptiveStore;
  /** TTL (ms) of stored results; 0 when {@link store} is `'none'`. */
  readonly ttl: number;
  /** `'early'` only: age (ms) after which one caller refreshes a value in the background; 0 otherwise. */
  readonly refreshAfter: number;
  readonly guard: AdaptiveGuard;
  /** The rules that led here, in words (logged when the decision changes). */
  readonly reason: string;
  /** When (clock ms) the decision took its current form. */
  readonly since: number;
}

/**
 * One `@Adaptive` method as `cache.stats()` shows it: the decision and the observations behind it.
 * @example
 * ```ts
 * const adaptive = cache.stats().methods.flatMap((row) => (row.adaptive ? [row.adaptive] : []));
 * for (const row of adaptive) console.log(row.strategy, row.ttlMs, row.reason);
 * ```
 */
export interface AdaptiveStats {
  /** `none`, `cache`, `early`, `failover` or `circuit`: the store, or the guard when it is the point. */
  readonly strategy: string;
  readonly store: AdaptiveStore;
  readonly guard: AdaptiveGuard;
  /** TTL (ms) of stored results; 0 when nothing is stored. */
  readonly ttlMs: number;
  /** Share of the calls whose arguments repeated within the TTL (within the largest allowed TTL when not storing). */
  readonly repeatRatio: number;
  /**
   * Estimated time (ms) a key's result stays the same; `null` when not observed yet. Results never seen to change get
   * the time they were watched (it grows as long as they stay the same).
   */
  readonly changeIntervalMs: number | null;
  /** Share of the recent runs that failed. */
  readonly failureRate: number;
  /** Mean duration (ms) of the recent successful runs. */
  readonly meanRunMs: number;
  /** Epoch ms since when the decision holds. */
  readonly since: number;
  readonly reason: string;
  /** The decision is the fleet's (observations merged through the backend) rather than this process's. */
  readonly shared: boolean;
}
