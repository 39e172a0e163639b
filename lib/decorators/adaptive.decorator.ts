import { PerInstance } from '../adaptive/registry.js';
import type { AdaptiveBounds } from '../adaptive/types.js';
import { parsePositiveDuration, type Duration } from '../duration.js';
import { CashewsConfigError } from '../errors.js';
import { keyHead } from '../keys/key-template.js';
import {
  adaptiveDefinition,
  type AdaptiveSite,
  type AdaptiveStrategyOptions,
} from '../strategies/adaptive.strategy.js';
import type { ExceptionsOption } from '../strategies/strategy.js';
import { exceptionsOption, positiveInteger } from './protect-options.js';
import { checkOptions, strategyDecorator, type KeyOptions } from './strategy-decorator.js';
import type { TypedMethodDecorator } from './typed-decorator.js';

/** Options of {@link Adaptive}: the bounds it decides within; see each option, and the README ("Adaptive caching"). */
export interface AdaptiveDecoratorOptions<A extends readonly unknown[] = readonly unknown[]> extends KeyOptions<A> {
  /** Longest TTL a stored result may get, whatever the observed change interval. Required. */
  maxTtl: Duration;
  /**
   * Oldest a served value may be: caps the TTL too, and bounds how long a last good value stands in for failures.
   * Default: `maxTtl`.
   */
  maxStaleness?: Duration;
  /** Results that change faster than this are not cached. Default `'1s'` (or `maxTtl` when shorter). */
  minTtl?: Duration;
  /** A run at least this long is slow: hot keys of a slow method are refreshed before they expire. Default `'100ms'`. */
  slowRun?: Duration;
  /** Observation window: the decision is revisited once per window. Default `'10s'`. */
  window?: Duration;
  /**
   * Errors that count as failures and fall back to the last good value: error classes or a predicate. Default: any
   * (but the last good result kept in process does not answer an `HttpException` with a 4xx status unless named here).
   */
  exceptions?: ExceptionsOption;
  /** Keys tracked per method (the memory bound of the observations). Default `1024`. */
  sampleSize?: number;
  /**
   * `true` (default): every process using the backend sends its observations there and adopts one decision per
   * method for the whole fleet, one window behind the traffic. `false`: each process decides from its own calls.
   */
  fleet?: boolean;
}

const OPTION_NAMES = ['maxTtl', 'maxStaleness', 'minTtl', 'slowRun', 'window', 'exceptions', 'sampleSize', 'fleet'];

/** Validates the bounds; every failure names the option and the forms it accepts. */
function boundsOf(where: string, options: AdaptiveDecoratorOptions): AdaptiveBounds {
  if (options.maxTtl === undefined) {
    throw new CashewsConfigError(
      `${where}: maxTtl is required: the longest TTL a result may get, a duration such as '5m' or 300000.`,
    );
  }
  const maxTtl = parsePositiveDuration(options.maxTtl, `${where} maxTtl`);
  const maxStaleness =
    options.maxStaleness === undefined ? maxTtl : parsePositiveDuration(options.maxStaleness, `${where} maxStaleness`);
  const cap = Math.min(maxTtl, maxStaleness);
  const minTtl =
    options.minTtl === undefined ? Math.min(1000, cap) : parsePositiveDuration(options.minTtl, `${where} minTtl`);
  if (minTtl > cap) {
    throw new CashewsConfigError(
      `${where}: minTtl (${minTtl} ms) must not exceed maxTtl and maxStaleness (${cap} ms): nothing could be cached.`,
    );
  }
  return {
    maxTtl,
    maxStaleness,
    minTtl,
    slowRun: options.slowRun === undefined ? 100 : parsePositiveDuration(options.slowRun, `${where} slowRun`),
    window: options.window === undefined ? 10_000 : parsePositiveDuration(options.window, `${where} window`),
  };
}

/**
 * Chooses how to run a method from its own history, within the bounds given: observes per call (with bounded memory)
 * how often arguments repeat, how long runs take and how often they fail, and how often a key's result changes; then,
 * once per `window`, decides to cache or not, with a TTL following the observed change interval (at most `maxTtl` and
 * `maxStaleness`), to refresh hot keys of a slow method early, to fall back to the last good value when failures
 * rise, and to add a circuit breaker when they persist. It runs the same strategies as `@Cache`, `@Early`,
 * `@Failover` and `@CircuitBreaker`. `cache.stats()` shows each decision and its reasons; each change is logged.
 *
 * @example
 * ```ts
 * ;@Adaptive({ maxTtl: '5m', maxStaleness: '1m' })
 * async findOne(id: string): Promise<Product> {
 *   return this.products.findOne(id);
 * }
 * ```
 */
export function Adaptive<A extends readonly unknown[] = readonly unknown[]>(
  options: AdaptiveDecoratorOptions<A>,
): TypedMethodDecorator<unknown, A> {
  const where = '@Adaptive';
  checkOptions(where, options, OPTION_NAMES);
  const bounds = boundsOf(where, options as AdaptiveDecoratorOptions);
  const exceptions = exceptionsOption(options.exceptions, `${where} exceptions`);
  if (options.fleet !== undefined && typeof options.fleet !== 'boolean') {
    throw new CashewsConfigError(`${where}: fleet must be true or false (got ${JSON.stringify(options.fleet)}).`);
  }
  const fleet = options.fleet !== false;
  const sampleSize =
    options.sampleSize === undefined ? 1024 : positiveInteger(options.sampleSize, `${where} sampleSize`);
  return ((target: object, propertyKey: string | symbol, descriptor: PropertyDescriptor) => {
    const owner = typeof target === 'function' ? target : target.constructor;
    // Per class reaching the method (see Layer.forClass): a subclass inheriting it has its own circuit and state.
    const optionsFor = (base: string): AdaptiveStrategyOptions =>
      Object.freeze({
        bounds: Object.freeze(bounds),
        // One circuit and one fleet state per method, as @CircuitBreaker's default key.
        namespace: keyHead({ prefix: options.prefix, base: `${base}:adaptive` }),
        fleet,
        exceptions,
        sampleSize,
        sites: new PerInstance<AdaptiveSite>(),
      });
    strategyDecorator({
      definition: adaptiveDefinition,
      options: optionsFor(`${owner.name}:${String(propertyKey)}`),
      optionsFor,
      keys: options,
    })(target, propertyKey, descriptor);
  }) as TypedMethodDecorator<unknown, A>;
}
