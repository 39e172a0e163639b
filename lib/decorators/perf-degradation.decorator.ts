import { parsePositiveDuration, type Duration } from '../duration.js';
import {
  perfDegradationDefinition,
  slowerThanTwiceTheMean,
  type PerfCondition,
} from '../strategies/perf-degradation.strategy.js';
import { optionalFunction, positiveInteger } from './protect-options.js';
import {
  checkOptions,
  strategyDecorator,
  METHOD_KEY_OPTION_NAMES,
  type MethodKeyOptions,
} from './strategy-decorator.js';
import type { TypedMethodDecorator } from './typed-decorator.js';

/** Options of {@link PerfDegradation}: see each option, and the README section of the decorator. */
export interface PerfDegradationDecoratorOptions<
  A extends readonly unknown[] = readonly unknown[],
> extends MethodKeyOptions<A> {
  /** How long calls fail fast with `PerfDegradationError` once a call was too slow. */
  ttl: Duration;
  /** Number of recent durations kept (per process); the condition is checked once that many are known. Default `10`. */
  traceSize?: number;
  /** `(elapsedMs, previousMs) => tooSlow`. Default: slower than twice the mean of the previous durations. */
  condition?: PerfCondition;
}

/**
 * Watches the method's durations; when a call is slower than `condition` allows, further calls fail fast
 * with `PerfDegradationError` (HTTP 503) for `ttl`, in every process sharing the backend. Default key: the method.
 *
 * @example
 * ```ts
 * ;@PerfDegradation({ ttl: '30s', traceSize: 20 })
 * async search(q: string): Promise<Product[]> {
 *   return this.products.search(q);
 * }
 * ```
 */
export function PerfDegradation<A extends readonly unknown[] = readonly unknown[]>(
  options: PerfDegradationDecoratorOptions<A>,
): TypedMethodDecorator<unknown, A> {
  const where = '@PerfDegradation';
  checkOptions(where, options, ['ttl', 'traceSize', 'condition'], METHOD_KEY_OPTION_NAMES);
  return strategyDecorator({
    definition: perfDegradationDefinition,
    options: {
      ttl: parsePositiveDuration(options.ttl, `${where} ttl`),
      traceSize: options.traceSize === undefined ? 10 : positiveInteger(options.traceSize, `${where} traceSize`),
      condition: optionalFunction<PerfCondition>(options.condition, `${where} condition`) ?? slowerThanTwiceTheMean,
    },
    keys: options,
    defaultKey: 'method',
  });
}
