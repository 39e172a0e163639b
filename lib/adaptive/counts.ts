/**
 * What one method did during one window, as plain additive counters: a window of one process and the windows of a
 * fleet merge by addition, and older windows fade by multiplication ({@link decayCounts}).
 */
export interface Counts {
  /** Calls of the method. */
  calls: number;
  /** Calls whose key was sampled (see `KeySampler`): the denominator of the repeat figures. */
  sampled: number;
  /**
   * Sampled calls whose key had been called before, by the time since that previous call: `gaps[i]` counts gaps
   * below `GAP_BASE_MS × 2^i` (and at least half that, for `i > 0`). The would-be hit ratio of any TTL reads off it.
   */
  gaps: number[];
  /** Runs of the method itself (misses, refreshes, calls not cached). */
  runs: number;
  /** Runs that failed with an error that counts (`exceptions`). */
  failures: number;
  /** Sum of the successful runs' durations, in microseconds (integers add up exactly across a fleet). */
  durationUs: number;
  /** Successful runs. */
  successes: number;
  /** Successive results of one sampled key compared: how many comparisons… */
  observations: number;
  /** …found a different result… */
  changes: number;
  /** …and the time they spanned in all (ms). */
  exposureMs: number;
}

/** Buckets of the gap histogram: 100 ms up to about 14.5 h, doubling. */
export const GAP_BUCKETS = 20;
/** Upper bound of the first gap bucket (ms). */
export const GAP_BASE_MS = 100;

/** Counters of a window where nothing happened. */
export function emptyCounts(): Counts {
  return {
    calls: 0,
    sampled: 0,
    gaps: new Array<number>(GAP_BUCKETS).fill(0),
    runs: 0,
    failures: 0,
    durationUs: 0,
    successes: 0,
    observations: 0,
    changes: 0,
    exposureMs: 0,
  };
}

const SCALARS = [
  'calls',
  'sampled',
  'runs',
  'failures',
  'durationUs',
  'successes',
  'observations',
  'changes',
  'exposureMs',
] as const;

/** The names of the scalar counters, in a fixed order (the fleet stores them field by field). */
export const COUNT_FIELDS: readonly (keyof Omit<Counts, 'gaps'>)[] = SCALARS;

/** Adds `from` into `into`. */
export function addCounts(into: Counts, from: Counts): void {
  for (const name of SCALARS) into[name] += from[name];
  for (let i = 0; i < GAP_BUCKETS; i++) into.gaps[i] += from.gaps[i] ?? 0;
}

/** Weight a window keeps one window later: the figures follow a change of workload within a few windows. */
export const WINDOW_DECAY = 0.5;
/**
 * The change figures remember this many changes at most, whatever time they took: they fade with evidence, not with
 * time. Faded by time, a method that is cached (few runs, so few comparisons) would lose the time its comparisons
 * spanned faster than the changes they found, and its change interval would shrink for want of news.
 */
export const CHANGE_MEMORY = 16;

const CHANGE_FIELDS = ['observations', 'changes', 'exposureMs'] as const;
const TIME_FIELDS = SCALARS.filter((name) => !(CHANGE_FIELDS as readonly string[]).includes(name));

/**
 * Folds a closed window into the smoothed counters, `elapsed` windows after the previous one: the usage figures fade
 * by {@link WINDOW_DECAY} per window; the change figures are added, then scaled down together (their ratios kept)
 * to hold no more than {@link CHANGE_MEMORY} changes.
 */
export function foldWindow(smoothed: Counts, closed: Counts, elapsed: number): void {
  const decay = WINDOW_DECAY ** elapsed;
  for (const name of TIME_FIELDS) smoothed[name] = smoothed[name] * decay + closed[name];
  for (let i = 0; i < GAP_BUCKETS; i++) smoothed.gaps[i] = smoothed.gaps[i] * decay + (closed.gaps[i] ?? 0);
  for (const name of CHANGE_FIELDS) smoothed[name] += closed[name];
  if (smoothed.changes > CHANGE_MEMORY) {
    const scale = CHANGE_MEMORY / smoothed.changes;
    for (const name of CHANGE_FIELDS) smoothed[name] *= scale;
  }
}

/** The histogram bucket of a gap between two calls of one key (ms). */
export function gapBucket(gapMs: number): number {
  if (gapMs < GAP_BASE_MS) return 0;
  const bucket = Math.floor(Math.log2(gapMs / GAP_BASE_MS)) + 1;
  return Math.min(GAP_BUCKETS - 1, bucket);
}

/**
 * How many sampled calls came within `ttl` ms of the previous call of their key: the calls a cache of that TTL would
 * have answered (an upper bound: it ignores that a hit does not refresh the entry). The bucket holding `ttl` counts
 * in proportion, so the figure moves smoothly with the TTL.
 */
export function repeatsWithin(counts: Counts, ttl: number): number {
  let total = 0;
  for (let i = 0; i < GAP_BUCKETS; i++) {
    const high = GAP_BASE_MS * 2 ** i;
    const low = i === 0 ? 0 : high / 2;
    if (ttl >= high) total += counts.gaps[i];
    else {
      if (ttl > low) total += (counts.gaps[i] * (ttl - low)) / (high - low);
      break;
    }
  }
  return total;
}
