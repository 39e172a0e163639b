import type { Clock } from '../clock.js';
import { emptyCounts, foldWindow, gapBucket, type Counts } from './counts.js';
import { decide, escalate, GUARD_RANK, initialState, ttlCap, type TunerState } from './decide.js';
import { resultDigest } from './digest.js';
import { KeySampler } from './key-sampler.js';
import { LastGood } from './last-good.js';
import { observe } from './observations.js';
import type { AdaptiveBounds, AdaptiveDecision, AdaptiveStats } from './types.js';

/** A decision that replaced another, for logs. */
export interface DecisionChange {
  readonly previous: AdaptiveDecision;
  readonly decision: AdaptiveDecision;
  /** Decided from the fleet's merged observations (see `FleetLink`). */
  readonly shared: boolean;
}

/**
 * Where a tuner sends each window it closes, and from where a fleet's decision comes back (see fleet.ts). Without
 * one, the tuner decides from this process's observations alone.
 */
export interface WindowSink {
  /** Called once per closed window with its index and counts; the tuner does not wait. */
  closed(index: number, counts: Counts): void;
}

export interface TunerOptions {
  readonly bounds: AdaptiveBounds;
  /** Time of windows and decisions; epoch milliseconds in production, so that a fleet agrees on window indexes. */
  readonly clock: Clock;
  /** Keys tracked per method at most (memory bound). Default 1024. */
  readonly sampleSize?: number;
  /** Bytes of last good results kept in this process at most (see {@link LastGood}). Default 1 MiB. */
  readonly lastGoodBytes?: number;
  readonly onChange?: (change: DecisionChange) => void;
  /** Receives closed windows (fleet sharing); the local decision is then replaced by {@link AdaptiveTuner.adopt}. */
  readonly sink?: WindowSink;
}

/**
 * The observations and the decision of one `@Adaptive` method on one cache instance. Memory is bounded: a sampled
 * table of keys ({@link KeySampler}), the counters of the window in progress, and exponentially smoothed counters of
 * the past ones. No timer: windows close on the first call after their end.
 */
export class AdaptiveTuner {
  private readonly bounds: AdaptiveBounds;
  private readonly clock: Clock;
  private readonly sampler: KeySampler;
  private readonly lastGood: LastGood;
  private window = emptyCounts();
  private readonly smoothed = emptyCounts();
  private index: number;
  private state: TunerState;
  private shared = false;
  private unreported?: DecisionChange;

  constructor(private readonly options: TunerOptions) {
    this.bounds = options.bounds;
    this.clock = options.clock;
    this.sampler = new KeySampler(options.sampleSize ?? 1024, this.bounds.window);
    this.lastGood = new LastGood(options.sampleSize ?? 1024, options.lastGoodBytes ?? 1024 * 1024);
    const now = this.clock.now();
    this.index = Math.floor(now / this.bounds.window);
    this.state = initialState(now);
  }

  /** Where closed windows go (fleet sharing), if anywhere. */
  get sink(): WindowSink | undefined {
    return this.options.sink;
  }

  /** The decision in force. */
  get decision(): AdaptiveDecision {
    return this.state.decision;
  }

  /**
   * A call with this key: counted, its key sampled; answers the decision to run it under. `now`: the time of the call
   * on the tuner's clock, when the caller read it already.
   */
  onCall(key: string, now = this.clock.now()): AdaptiveDecision {
    this.roll(now);
    const window = this.window;
    window.calls++;
    const gap = this.sampler.touch(key, now);
    if (gap !== undefined) {
      window.sampled++;
      if (gap >= 0) window.gaps[gapBucket(gap)]++;
    }
    return this.state.decision;
  }

  /**
   * A run of the method for `key` succeeded with `result` after `ms` milliseconds. `keep`: whether the result may be
   * kept in process as the key's last good result (not when the call may not store, e.g. `Cache-Control: no-store`;
   * the result kept before then stays, as a backend entry would).
   */
  onSuccess(key: string, result: unknown, ms: number, keep = true): void {
    const now = this.clock.now();
    this.roll(now);
    const window = this.window;
    window.runs++;
    window.successes++;
    window.durationUs += Math.round(ms * 1000);
    // Only a tracked key's result is worth a digest (JSON of its stored form): most keys are not, under sampling. Its last
    // good result is kept in this process too, for a failure to fall back on (see lastGoodOf).
    if (!this.sampler.tracks(key)) return;
    const digest = resultDigest(result);
    if (keep) this.lastGood.keep(key, digest, now);
    if (digest === undefined) return;
    const seen = this.sampler.result(key, digest.digest, now);
    if (!seen) return;
    window.observations++;
    window.exposureMs += seen.spanMs;
    if (seen.changed) window.changes++;
  }

  /**
   * The last good result of a tracked key kept in this process, at most `maxStaleness` old, with its age (ms): what a
   * failure of `key` falls back on when the backend has no last good value for it (the fallback was off).
   */
  lastGoodOf(key: string): { readonly value: unknown; readonly age: number } | undefined {
    return this.lastGood.find(key, this.clock.now(), this.bounds.maxStaleness);
  }

  /** Drops the last good result kept in process for `key` (`@Invalidate` named the method). */
  forget(key: string): void {
    this.lastGood.forget(key);
  }

  /** A run of the method failed with an error that counts. */
  onFailure(): void {
    const now = this.clock.now();
    this.roll(now);
    const window = this.window;
    window.runs++;
    window.failures++;
    this.apply(escalate(this.state, window.runs, window.failures, now), false);
  }

  /**
   * Replaces the decision with the fleet's (fleet.ts): every process then runs the method the same way. The local
   * observations go on being counted and sent.
   */
  adopt(state: TunerState): void {
    const local = this.state.decision;
    // The fleet's decision is held to this process's own bounds: during a rolling deploy another version with a
    // longer maxTtl or maxStaleness may have decided, and a value must never live longer than these allow.
    const cap = ttlCap(this.bounds);
    const fleet: AdaptiveDecision = {
      ...state.decision,
      ttl: Math.min(state.decision.ttl, cap),
      refreshAfter: Math.min(state.decision.refreshAfter, cap),
    };
    state = { ...state, decision: fleet };
    this.shared = true;
    // A local escalation newer than the fleet's decision stands until the fleet has seen the failures too (its
    // decision lags one window): callers of this process keep their fallback meanwhile.
    if (GUARD_RANK[local.guard] > GUARD_RANK[fleet.guard] && local.since > fleet.since) {
      this.apply(
        { ...state, decision: { ...fleet, guard: local.guard, reason: local.reason, since: local.since } },
        true,
      );
    } else this.apply(state, true);
  }

  /**
   * The fleet could not be reached (an exchange failed): this process decides alone from its own observations again,
   * window by window, until a later exchange brings the fleet's decision back ({@link adopt}). Without it, a decision
   * once shared would hold for as long as the backend is down, whatever the traffic does.
   */
  decideAlone(): void {
    this.shared = false;
  }

  /** The state the decision is made from, for the process that decides for the fleet. */
  get tunerState(): TunerState {
    return this.state;
  }

  /** The decision and the figures behind it (`cache.stats()`). */
  snapshot(): AdaptiveStats {
    this.roll(this.clock.now());
    const { decision } = this.state;
    const seen = observe(this.smoothed);
    const strategy =
      decision.guard === 'circuit' ? 'circuit' : decision.store !== 'none' ? decision.store : decision.guard;
    const interval = seen.changeIntervalMs;
    return {
      strategy,
      store: decision.store,
      guard: decision.guard,
      ttlMs: decision.ttl,
      repeatRatio: round(seen.hitRatioAt(decision.store === 'none' ? ttlCap(this.bounds) : decision.ttl)),
      changeIntervalMs: interval === undefined ? null : Math.round(interval),
      failureRate: round(seen.failureRate ?? 0),
      meanRunMs: round(seen.meanRunMs ?? 0),
      since: decision.since,
      reason: decision.reason,
      shared: this.shared,
    };
  }

  /** Closes the windows that ended before `now`: folds them into the smoothed figures and decides again. */
  private roll(now: number): void {
    const index = Math.floor(now / this.bounds.window);
    if (index <= this.index) return;
    const closed = this.window;
    const closedIndex = this.index;
    this.window = emptyCounts();
    this.index = index;
    foldWindow(this.smoothed, closed, index - closedIndex);
    this.sampler.endWindow(now, ttlCap(this.bounds), closed.sampled);
    if (this.options.sink) {
      this.options.sink.closed(closedIndex, closed);
      // The fleet decides (fleet.ts) and the decision comes back through adopt(); until then the local one holds.
      if (this.shared) return;
    }
    this.apply(decide(this.state, observe(this.smoothed), this.bounds, now), false);
  }

  /**
   * The last decision change not taken yet, once: the strategy logs it through the call that saw it (the tuner knows
   * no logger).
   */
  takeChange(): DecisionChange | undefined {
    const change = this.unreported;
    this.unreported = undefined;
    return change;
  }

  private apply(next: TunerState, shared: boolean): void {
    const previous = this.state.decision;
    this.state = next;
    if (sameDecision(previous, next.decision)) return;
    const change = { previous, decision: next.decision, shared };
    this.unreported = change;
    this.options.onChange?.(change);
  }
}

/** Same behaviour (the reason and the time aside): a fleet decision read back from the backend is a new object. */
export function sameDecision(a: AdaptiveDecision, b: AdaptiveDecision): boolean {
  return a.store === b.store && a.ttl === b.ttl && a.refreshAfter === b.refreshAfter && a.guard === b.guard;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
