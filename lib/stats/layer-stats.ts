import type { CircuitState } from '../backends/protect-types.js';
import type { Layer } from '../strategies/executor.js';
import type { CircuitStateName, MethodStats } from './types.js';

/** Whoever owns a layer's counters (a cache instance's collector); compared by identity only. */
export interface StatsOwner {
  readonly kind: 'stats-owner';
}

/**
 * Counters of one layer (one decorator on one method) for one cache instance: plain fields, allocated once and
 * bumped by the executor. Nothing here allocates or reads the clock on a cache hit.
 */
export class LayerStats {
  calls = 0;
  hits = 0;
  stale = 0;
  executions = 0;
  refreshes = 0;
  errors = 0;
  rejections = 0;
  /** Sum (ms) and count of successful runs below the layer. */
  durationSum = 0;
  durationCount = 0;
  circuitState?: CircuitStateName;
  /** Epoch ms until which an observed open (or half-open busy) circuit refuses calls. */
  circuitUntil = 0;

  /** `ClassName.method`. */
  readonly method: string;
  readonly strategy: string;
  readonly storesResult: boolean;
  private readonly halfOpenTtl: number;

  constructor(
    readonly owner: StatsOwner | undefined,
    layer: Layer,
  ) {
    this.method = layer.base.replace(':', '.');
    this.strategy = layer.strategy;
    this.storesResult = layer.storesResult;
    this.halfOpenTtl = Number((layer.options as { halfOpenTtl?: unknown } | undefined)?.halfOpenTtl) || 0;
    if (layer.strategy === 'circuit-breaker') this.circuitState = 'closed';
  }

  /** What a circuit-breaker step answered; a refused `check` is a rejection. */
  observeCircuit(state: CircuitState, check: boolean): void {
    if (check && !state.allowed) this.rejections++;
    this.circuitState = state.state;
    this.circuitUntil = state.retryAfter > 0 ? Date.now() + state.retryAfter : 0;
  }

  /** The circuit state now: an observed open circuit whose time is up is half-open (or closed without `halfOpenTtl`). */
  currentCircuit(now: number): CircuitStateName | undefined {
    const state = this.circuitState;
    if (state === 'open' && this.circuitUntil && now >= this.circuitUntil) {
      return this.halfOpenTtl > 0 ? 'half-open' : 'closed';
    }
    // A half-open window that ran out without a trial outcome seen here: the backend treats the circuit as closed.
    if (state === 'half-open' && this.circuitUntil && now >= this.circuitUntil) return 'closed';
    return state;
  }

  snapshot(strategy: string, now: number): MethodStats {
    const mean = this.durationCount ? this.durationSum / this.durationCount : 0;
    const served = this.hits + this.stale;
    const circuit = this.currentCircuit(now);
    return {
      method: this.method,
      strategy,
      calls: this.calls,
      hits: this.hits,
      misses: this.storesResult ? Math.max(0, this.calls - served) : 0,
      stale: this.stale,
      executions: this.executions,
      refreshes: this.refreshes,
      errors: this.errors,
      executionsAvoided: this.storesResult ? Math.max(0, this.calls - this.executions) : 0,
      meanDurationMs: round(mean),
      timeSavedMs: round(mean * this.hits),
      hitRatio: this.storesResult && this.calls ? round(this.hits / this.calls, 4) : 0,
      rejections: this.rejections,
      ...(circuit ? { circuit } : {}),
    };
  }
}

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/**
 * The counters of `layer` for `owner`. The layer keeps the last record it used, so the hot path is one property
 * read and one comparison; a layer shared by two applications in one process switches records through the owner.
 */
export function layerStats(
  layer: Layer,
  owner: StatsOwner | undefined,
  create: (layer: Layer) => LayerStats,
): LayerStats {
  const slot = layer.statsSlot;
  if (slot !== undefined && slot.owner === owner) return slot;
  return (layer.statsSlot = create(layer));
}
