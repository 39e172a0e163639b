import type { CircuitState } from '../backends/protect-types.js';
import type { Layer, StrategyTraits } from '../strategies/layer.js';
import type { LayerObserver } from '../strategies/observer.js';
import type { CircuitStateName, MethodStats } from './types.js';

/**
 * Counters of one layer (one decorator on one method) for one cache instance: plain fields, allocated once and
 * bumped through the executor's {@link LayerObserver} calls. Nothing here allocates or reads the clock on a cache hit.
 */
export class LayerStats implements LayerObserver {
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
  private readonly adaptive: StrategyTraits['adaptive'];

  /** `traits`: what the layer's strategy says of the options it runs with on this instance. */
  constructor(layer: Layer, traits: StrategyTraits) {
    this.method = layer.base.replace(':', '.');
    this.strategy = layer.strategy;
    this.storesResult = layer.storesResult;
    this.halfOpenTtl = traits.halfOpenTtl ?? 0;
    this.adaptive = traits.adaptive;
    if (traits.halfOpenTtl !== undefined) this.circuitState = 'closed';
  }

  onCall(): void {
    this.calls++;
  }

  onHit(): void {
    this.hits++;
  }

  onStale(): void {
    this.stale++;
  }

  onRun(background: boolean): void {
    if (background) this.refreshes++;
    else this.executions++;
  }

  onSuccess(ms: number): void {
    this.durationSum += ms;
    this.durationCount++;
  }

  onError(): void {
    this.errors++;
  }

  onRejected(): void {
    this.rejections++;
  }

  /** What a circuit-breaker step answered; a refused `check` is a rejection. */
  onCircuit(state: CircuitState, check: boolean): void {
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

  /** `instance`: the collector of the cache instance, which `@Adaptive` layers keep their decisions by. */
  snapshot(strategy: string, now: number, instance?: object): MethodStats {
    const mean = this.durationCount ? this.durationSum / this.durationCount : 0;
    const served = this.hits + this.stale;
    const circuit = this.currentCircuit(now);
    const adaptive = instance ? this.adaptive?.(instance) : undefined;
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
      ...(adaptive ? { adaptive } : {}),
    };
  }
}

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
