import type { CircuitState } from '../backends/protect-types.js';
import type { Layer } from './layer.js';

/**
 * What the executor reports about one layer's calls (the usage statistics implement it). Plain method calls with
 * no argument on the hit path: an implementation must not allocate or read the clock there.
 */
export interface LayerObserver {
  /** A call reached the layer (and its key could be built). */
  onCall(): void;
  /** A fresh value was served from cache. */
  onHit(): void;
  /** A stale value was served (`@Soft`, `@Failover`, `@Early` refreshing). */
  onStale(): void;
  /** What is below the layer ran: for the caller, or as a background refresh. */
  onRun(background: boolean): void;
  /** What is below the layer succeeded after `ms` milliseconds. */
  onSuccess(ms: number): void;
  /** What is below the layer failed. */
  onError(): void;
  /** The call was refused without running (rate limit, open circuit, fast fail). */
  onRejected(): void;
  /** What a circuit-breaker step answered; a refused `check` is a rejection. */
  onCircuit(state: CircuitState, check: boolean): void;
}

/**
 * Receives what the executor observes, per layer. `observe` is called on every call, so it must be a lookup after
 * the first call of a layer (the handle is created once per layer and observer). `options` are the ones the layer
 * runs with on this instance, for reading its strategy's traits when the handle is created.
 */
export interface ExecutionObserver {
  observe<O>(layer: Layer<O>, options: O): LayerObserver;
}

/** Observes nothing (hooks without statistics, e.g. hand-built hooks in tests). */
export const NO_OBSERVER: LayerObserver = Object.freeze({
  onCall() {},
  onHit() {},
  onStale() {},
  onRun() {},
  onSuccess() {},
  onError() {},
  onRejected() {},
  onCircuit() {},
});

/**
 * Both observers see every call (usage statistics and tracing): one handle per layer, each looked up once per call.
 */
export function observeBoth(first: ExecutionObserver, second: ExecutionObserver): ExecutionObserver {
  const pairs = new WeakMap<object, { a: LayerObserver; b: LayerObserver; pair: LayerObserver }>();
  return {
    observe<O>(layer: Layer<O>, options: O): LayerObserver {
      const a = first.observe(layer, options);
      const b = second.observe(layer, options);
      const known = pairs.get(layer);
      // A statistics reset hands out new handles: the pair follows.
      if (known && known.a === a && known.b === b) return known.pair;
      const pair: LayerObserver = {
        onCall: () => (a.onCall(), b.onCall()),
        onHit: () => (a.onHit(), b.onHit()),
        onStale: () => (a.onStale(), b.onStale()),
        onRun: (background) => (a.onRun(background), b.onRun(background)),
        onSuccess: (ms) => (a.onSuccess(ms), b.onSuccess(ms)),
        onError: () => (a.onError(), b.onError()),
        onRejected: () => (a.onRejected(), b.onRejected()),
        onCircuit: (state, check) => (a.onCircuit(state, check), b.onCircuit(state, check)),
      };
      pairs.set(layer, { a, b, pair });
      return pair;
    },
  };
}
