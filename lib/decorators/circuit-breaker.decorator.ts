import { parsePositiveDuration, type Duration } from '../duration.js';
import { CashewsConfigError } from '../errors.js';
import { circuitBreakerDefinition } from '../strategies/circuit-breaker.strategy.js';
import type { ExceptionsOption } from '../strategies/strategy.js';
import { exceptionsOption, positiveInteger } from './protect-options.js';
import {
  checkOptions,
  strategyDecorator,
  METHOD_KEY_OPTION_NAMES,
  type MethodKeyOptions,
} from './strategy-decorator.js';
import type { TypedMethodDecorator } from './typed-decorator.js';

/** Options of {@link CircuitBreaker}: see each option, and the README section of the decorator. */
export interface CircuitBreakerDecoratorOptions<
  A extends readonly unknown[] = readonly unknown[],
> extends MethodKeyOptions<A> {
  /** Failure percentage over `period` that opens the circuit: `0 < errorsRate <= 100`. */
  errorsRate: number;
  /** Window over which calls and failures are counted. */
  period: Duration;
  /** How long the circuit stays open (calls fail fast with `CircuitOpenError`). */
  ttl: Duration;
  /** Calls needed in the window before the rate counts. Default `1`. */
  minCalls?: number;
  /** After `ttl`, how long the circuit is half-open: one trial call runs, its outcome closes or re-opens it. Default: none. */
  halfOpenTtl?: Duration;
  /** Errors that count as failures: error classes or a predicate. Default: any error. */
  exceptions?: ExceptionsOption;
}

/**
 * Opens the circuit when at least `minCalls` calls were made in `period` and `errorsRate` percent of them
 * failed: for `ttl`, calls fail fast with `CircuitOpenError` (HTTP 503) without running the method. State
 * lives in the backend, so every process sees one circuit. Default key: the method.
 *
 * @example
 * ```ts
 * ;@CircuitBreaker({ errorsRate: 50, period: '1m', ttl: '30s', minCalls: 10, halfOpenTtl: '10s' })
 * async fetchPrice(id: string): Promise<number> {
 *   return this.upstream.price(id);
 * }
 * ```
 */
export function CircuitBreaker<A extends readonly unknown[] = readonly unknown[]>(
  options: CircuitBreakerDecoratorOptions<A>,
): TypedMethodDecorator<unknown, A> {
  const where = '@CircuitBreaker';
  checkOptions(
    where,
    options,
    ['errorsRate', 'period', 'ttl', 'minCalls', 'halfOpenTtl', 'exceptions'],
    METHOD_KEY_OPTION_NAMES,
  );
  const rate = options.errorsRate;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0 || rate > 100) {
    throw new CashewsConfigError(
      `Invalid "${where} errorsRate": expected a percentage, 0 < errorsRate <= 100 (got ${JSON.stringify(rate)}).`,
    );
  }
  return strategyDecorator({
    definition: circuitBreakerDefinition,
    options: {
      errorsRate: rate,
      period: parsePositiveDuration(options.period, `${where} period`),
      ttl: parsePositiveDuration(options.ttl, `${where} ttl`),
      minCalls: options.minCalls === undefined ? 1 : positiveInteger(options.minCalls, `${where} minCalls`),
      halfOpenTtl:
        options.halfOpenTtl === undefined ? 0 : parsePositiveDuration(options.halfOpenTtl, `${where} halfOpenTtl`),
      exceptions: exceptionsOption(options.exceptions, `${where} exceptions`),
    },
    keys: options,
    defaultKey: 'method',
  });
}
