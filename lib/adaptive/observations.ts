import { repeatsWithin, type Counts } from './counts.js';

/** Evidence needed before a figure counts: fewer smoothed runs or result comparisons say nothing yet. */
export const MIN_RUNS = 5;
export const MIN_OBSERVATIONS = 8;

/** The figures the decision reads, derived from a method's smoothed {@link Counts}. */
export interface Observed {
  /** Smoothed number of calls (recent windows weigh more). */
  readonly calls: number;
  /** Share of calls whose key came again within `ttl` ms of its previous call; 0 without sampled calls. */
  hitRatioAt(ttl: number): number;
  /** Mean duration of successful runs (ms); `undefined` before the first. */
  readonly meanRunMs: number | undefined;
  /** Share of runs that failed; `undefined` with fewer than {@link MIN_RUNS} runs. */
  readonly failureRate: number | undefined;
  /**
   * Estimated time (ms) a key's result stays the same; `undefined` with fewer than {@link MIN_OBSERVATIONS}
   * comparisons.
   */
  readonly changeIntervalMs: number | undefined;
}

/** Share of result comparisons that found a change above which the runs are too far apart to time changes. */
export const SATURATED = 0.9;
/** Factor applied to the change interval of saturated comparisons (within the decision's `ttlBand`, see below). */
export const SATURATION_BRAKE = 0.75;

/**
 * Reads the figures off smoothed counts.
 *
 * The change interval is the time the comparisons spanned divided by the changes they found, plus one: exact while
 * runs are close together (a method not cached, or cached with a TTL below the interval), whatever the pattern of
 * changes; the one added keeps a short observation that saw no change from meaning "never changes" (the estimate
 * then grows with the time observed, up to the TTL cap).
 * When almost every comparison found a change the runs may be further apart than the changes (two changes between
 * two runs look like one), and with a TTL following the estimate it would only grow: such an estimate is braked by
 * {@link SATURATION_BRAKE}. Results that change on a strict period `P`, runs every `P`: the braked estimate is within
 * the decision's TTL band of `P`, and the TTL stays at `P`. Results that change at random: it settles at about twice
 * the mean interval, within `maxTtl`/`maxStaleness` anyway.
 */
export function observe(counts: Counts): Observed {
  const { sampled, runs, failures, successes, observations, changes, exposureMs } = counts;
  let changeIntervalMs: number | undefined;
  if (observations >= MIN_OBSERVATIONS && exposureMs > 0) {
    changeIntervalMs = exposureMs / (changes + 1);
    if (changes >= SATURATED * observations) changeIntervalMs *= SATURATION_BRAKE;
  }
  return {
    calls: counts.calls,
    hitRatioAt: (ttl) => (sampled > 0 ? Math.min(1, repeatsWithin(counts, ttl) / sampled) : 0),
    meanRunMs: successes > 0 ? counts.durationUs / successes / 1000 : undefined,
    failureRate: runs >= MIN_RUNS ? failures / runs : undefined,
    changeIntervalMs,
  };
}
