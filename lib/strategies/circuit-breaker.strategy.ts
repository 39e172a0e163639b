import type { CircuitSettings } from '../backends/protect-types.js';
import { CircuitOpenError } from '../errors.js';
import { matchesExceptions, type ExceptionsOption, type Strategy } from './strategy.js';
import { defineStrategy, type StrategyDefinition } from './layer.js';

export interface CircuitBreakerStrategyOptions extends CircuitSettings {
  /** Errors that count as failures. Default: any error. Other errors count as calls only. */
  exceptions?: ExceptionsOption;
}

/**
 * Counts calls and failures over `period` in the backend (one hash, updated by one script), so every process
 * sees one circuit. Open: calls fail fast with {@link CircuitOpenError}. Half-open: one trial call runs; its
 * success closes the circuit, its failure re-opens it.
 */
export const circuitBreakerStrategy: Strategy<CircuitBreakerStrategyOptions> = async (call, options, cache, next) => {
  const key = `${call.key}:circuit`;
  const check = await cache.circuit(key, 'check', options);
  call.reportCircuit?.(check, true);
  if (!check.allowed) throw new CircuitOpenError(call.key, check.retryAfter);
  let result: unknown;
  try {
    result = await next();
  } catch (error) {
    const failed = matchesExceptions(options.exceptions, error);
    const op = check.trial ? (failed ? 'trial-fail' : 'trial-ok') : failed ? 'fail' : 'ok';
    // Recorded first: an optional call `reportCircuit?.(await …)` would skip the step when nobody listens.
    const after = await cache.circuit(key, op, options);
    call.reportCircuit?.(after, false);
    throw error;
  }
  const after = await cache.circuit(key, check.trial ? 'trial-ok' : 'ok', options);
  call.reportCircuit?.(after, false);
  return result;
};

/** `circuit-breaker` layers: stores nothing; half-open window for the statistics. */
export const circuitBreakerDefinition: StrategyDefinition<CircuitBreakerStrategyOptions> =
  defineStrategy<CircuitBreakerStrategyOptions>({
    name: 'circuit-breaker',
    run: circuitBreakerStrategy,
    storesResult: false,
    traits: (options) => ({ halfOpenTtl: options.halfOpenTtl }),
  });
