/**
 * Answers of the protective primitives (rate limits, circuit breaker; see lib/primitives/) every backend runs
 * atomically. All durations are milliseconds.
 */

/** One call counted against a rate limit window. */
export interface WindowState {
  /** The call is within the limit. */
  readonly allowed: boolean;
  /** Calls still allowed in the current window (0 when over the limit). */
  readonly remaining: number;
  /** Milliseconds until the window (or the ban) ends and calls are allowed again. */
  readonly reset: number;
}

/** What the circuit breaker asks: `check` before a call; the others record its outcome. */
export type CircuitOp = 'check' | 'ok' | 'fail' | 'trial-ok' | 'trial-fail';

/** Settings of one circuit, fixed at decoration time. */
export interface CircuitSettings {
  /** Failure percentage (0 < rate <= 100) over `period` that opens the circuit. */
  readonly errorsRate: number;
  /** Counting window of calls and failures. */
  readonly period: number;
  /** How long the circuit stays open. */
  readonly ttl: number;
  /** Calls needed in the window before the rate is considered. */
  readonly minCalls: number;
  /** Half-open phase after `ttl` (0: none, the circuit closes after `ttl`). */
  readonly halfOpenTtl: number;
}

/**
 * State of a circuit as one operation saw it. `allowed` only matters for `check`: `trial` means this call
 * is the one half-open trial, whose outcome closes (`trial-ok`) or re-opens (`trial-fail`) the circuit.
 */
export interface CircuitState {
  readonly state: 'closed' | 'open' | 'half-open';
  readonly allowed: boolean;
  readonly trial: boolean;
  /** Milliseconds until the circuit may let calls through again (0 when allowed). */
  readonly retryAfter: number;
}
