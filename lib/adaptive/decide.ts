import type { Observed } from './observations.js';
import type { AdaptiveBounds, AdaptiveDecision, AdaptiveGuard, AdaptiveStore } from './types.js';

/**
 * The thresholds of the decision. Each rule that switches something on has a stricter threshold than the one that
 * switches it off again (hysteresis), and a change of what is stored must be proposed in `patience` windows in a
 * row: a workload that changes is followed within a few windows, one that wobbles around a threshold is not.
 */
export const RULES = Object.freeze({
  /** Smoothed calls needed before anything is decided. */
  minCalls: 20,
  /** Would-be hit ratio at the TTL to start storing results, and below which storing stops. */
  storeEnter: 0.25,
  storeLeave: 0.1,
  /** Would-be hit ratio at the TTL that makes keys hot (early refresh, with slow runs), and to stay hot. */
  hotEnter: 0.9,
  hotLeave: 0.8,
  /** Failure rate that turns the fallback to the last good value on (at once), and below which it goes off. */
  failoverEnter: 0.1,
  failoverLeave: 0.02,
  /** Failure rate that opens a circuit in front of the method once it persists, and below which it is removed. */
  circuitEnter: 0.5,
  circuitLeave: 0.2,
  /**
   * A new TTL within this fraction of the current one is not worth a change. Wider than the change estimate's
   * saturation brake (observations.ts, ×0.75, i.e. −25 % and +33 % back), so that the brake never makes the TTL
   * swing between two values.
   */
  ttlBand: 0.35,
  /** Windows in a row a new store (or a circuit) must be proposed before it is applied. */
  patience: 2,
  /** Windows in a row of fewer failures before a guard is relaxed. */
  relaxPatience: 3,
  /** Share of the TTL after which a hot, slow key is refreshed early. */
  earlyShare: 2 / 3,
});

/** What the decision remembers between windows besides the decision itself: the proposals being waited out. */
export interface TunerState {
  readonly decision: AdaptiveDecision;
  /** A store mode other than the current one, proposed in `streak` windows in a row. */
  readonly storeProposal?: { readonly store: AdaptiveStore; readonly streak: number };
  /** A guard other than the current one, proposed in `streak` windows in a row. */
  readonly guardProposal?: { readonly guard: AdaptiveGuard; readonly streak: number };
}

/** Before any observation: run the method as if undecorated, and watch. */
export function initialState(now: number): TunerState {
  return {
    decision: { store: 'none', ttl: 0, refreshAfter: 0, guard: 'none', reason: 'observing', since: now },
  };
}

/** The largest TTL the bounds allow. */
export function ttlCap(bounds: AdaptiveBounds): number {
  return Math.min(bounds.maxTtl, bounds.maxStaleness);
}

/** A duration for reasons and logs: `850ms`, `12.5s`, `4m`. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'never';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 120_000) return `${Math.round(ms / 100) / 10}s`;
  return `${Math.round(ms / 6000) / 10}m`;
}

const percent = (ratio: number) => `${Math.round(ratio * 100)}%`;

interface StoreTarget {
  readonly store: AdaptiveStore;
  readonly ttl: number;
  readonly why: string;
}

/** What to store, from the repeat and change figures alone (no hysteresis in time yet). */
function storeTarget(current: AdaptiveDecision, seen: Observed, bounds: AdaptiveBounds): StoreTarget {
  const cap = ttlCap(bounds);
  const storing = current.store !== 'none';
  const interval = seen.changeIntervalMs;
  // Without result comparisons (no key ran twice yet, or results have no JSON form) the TTL stays where it is, or
  // starts at the cap: the user's bounds are what a cache of this method may serve anyway.
  let ttl = interval === undefined ? (storing ? current.ttl : cap) : Math.min(cap, Math.round(interval));
  const changes = interval === undefined ? 'changes not observed yet' : `results change every ~${formatMs(interval)}`;
  if (ttl < (storing ? bounds.minTtl / 2 : bounds.minTtl)) {
    return { store: 'none', ttl: 0, why: `${changes}, faster than minTtl ${formatMs(bounds.minTtl)}` };
  }
  // Slow start: a TTL no longer than the time the method has been watched, doubling at most per window. Results seen
  // unchanged for two windows say little about the next two minutes.
  ttl = Math.max(Math.min(ttl, storing ? current.ttl * 2 : bounds.window * RULES.patience), bounds.minTtl);
  // A TTL close to the current one is kept: a new figure each window would only churn the logs.
  if (storing && Math.abs(ttl - current.ttl) <= RULES.ttlBand * current.ttl) ttl = current.ttl;
  const hit = seen.hitRatioAt(ttl);
  const repeats = `${percent(hit)} of calls repeat within ${formatMs(ttl)}`;
  if (hit < (storing ? RULES.storeLeave : RULES.storeEnter)) return { store: 'none', ttl: 0, why: repeats };
  const early = current.store === 'early';
  const hot = hit >= (early ? RULES.hotLeave : RULES.hotEnter);
  const run = seen.meanRunMs;
  const slow = run !== undefined && run >= (early ? bounds.slowRun / 2 : bounds.slowRun);
  if (hot && slow) return { store: 'early', ttl, why: `${repeats}, runs take ~${formatMs(run)}; ${changes}` };
  return { store: 'cache', ttl, why: `${repeats}; ${changes}` };
}

/** Which guard the failure rate calls for, with the thresholds of the current guard. */
function guardTarget(current: AdaptiveGuard, rate: number): AdaptiveGuard {
  if (rate >= RULES.circuitEnter || (current === 'circuit' && rate >= RULES.circuitLeave)) return 'circuit';
  if (rate >= RULES.failoverEnter || (current !== 'none' && rate >= RULES.failoverLeave)) return 'failover';
  return 'none';
}

/** Guards from the weakest: a local escalation outranks a fleet decision that has not seen the failures yet. */
export const GUARD_RANK: Record<AdaptiveGuard, number> = { none: 0, failover: 1, circuit: 2 };

/**
 * The decision after one more window of observations. Pure: the same state and figures give the same answer, in
 * every process of a fleet.
 *
 * - Store: results are stored when enough calls repeat within the TTL and results do not change faster than
 *   `minTtl`; the TTL is the observed change interval, capped by `maxTtl` and `maxStaleness`; hot keys of a slow
 *   method are refreshed early. A new store mode waits {@link RULES}.patience windows.
 * - Guard: a failure rate from `failoverEnter` turns the fallback on at once; from `circuitEnter`, held for
 *   `patience` windows, adds a circuit. Guards are relaxed after `relaxPatience` calmer windows.
 */
export function decide(state: TunerState, seen: Observed, bounds: AdaptiveBounds, now: number): TunerState {
  if (seen.calls < RULES.minCalls) return state;
  const current = state.decision;

  let guard = current.guard;
  let guardProposal = state.guardProposal;
  const rate = seen.failureRate;
  if (rate !== undefined) {
    const wanted = guardTarget(current.guard, rate);
    if (wanted === current.guard) guardProposal = undefined;
    else {
      const streak = guardProposal?.guard === wanted ? guardProposal.streak + 1 : 1;
      const escalating = GUARD_RANK[wanted] > GUARD_RANK[current.guard];
      // Protection comes at once (a fallback costs one write per run); a circuit refuses calls, so it waits for the
      // failures to persist; relaxing waits for calm to last.
      const needed = !escalating ? RULES.relaxPatience : wanted === 'circuit' ? RULES.patience : 1;
      if (streak >= needed) {
        guard = wanted;
        guardProposal = undefined;
      } else guardProposal = { guard: wanted, streak };
    }
  }

  const target = storeTarget(current, seen, bounds);
  let store = current.store;
  let ttl = current.ttl;
  let storeProposal = state.storeProposal;
  if (target.store === current.store) {
    storeProposal = undefined;
    ttl = target.ttl;
  } else {
    const streak = storeProposal?.store === target.store ? storeProposal.streak + 1 : 1;
    if (streak >= RULES.patience) {
      store = target.store;
      ttl = target.ttl;
      storeProposal = undefined;
    } else storeProposal = { store: target.store, streak };
  }

  const refreshAfter = store === 'early' ? Math.max(1, Math.floor(ttl * RULES.earlyShare)) : 0;
  const failures = rate === undefined ? '' : `; ${percent(rate)} of runs fail`;
  const changed = store !== current.store || ttl !== current.ttl || guard !== current.guard;
  const decision: AdaptiveDecision = changed
    ? { store, ttl, refreshAfter, guard, reason: `${target.why}${failures}`, since: now }
    : current;
  return { decision, storeProposal, guardProposal };
}

/**
 * Failures within the window in progress that cannot wait for its end: the fallback goes on at once when at least
 * `minFailures` runs failed at the `failoverEnter` rate, so that callers with a last good value stop getting errors.
 */
export function escalate(state: TunerState, runs: number, failures: number, now: number, minFailures = 5): TunerState {
  if (state.decision.guard !== 'none' || failures < minFailures || failures / runs < RULES.failoverEnter) return state;
  return {
    ...state,
    decision: {
      ...state.decision,
      guard: 'failover',
      reason: `${failures} of ${runs} runs failed in this window`,
      since: now,
    },
    guardProposal: undefined,
  };
}
