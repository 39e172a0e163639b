import { checkHttpMethods } from './http-methods.js';
import { CashewsConfigError } from '../errors.js';
import { cacheDefinition, timedCacheDefinition } from '../strategies/cache.strategy.js';
import { withTtl } from '../strategies/store-policy.js';
import { TIMEOUT_OPTION_NAMES, timeoutsOf, type TimeoutDecoratorOptions } from '../strategies/timeouts.js';
import { STAMPEDE_OPTION_NAMES, stampedeOptions, type StampedeDecoratorOptions } from './stampede-options.js';
import { cacheHandlers, type ClassType } from './class-cache.js';
import {
  checkTags,
  ERROR_OPTION_NAMES,
  STORING_OPTION_NAMES,
  storingDecorator,
  type ErrorCachingOptions,
  type StoringDecoratorOptions,
} from './storing-options.js';
import { checkOptions, type KeyOptions } from './strategy-decorator.js';
import type { TypedMethodDecorator } from './typed-decorator.js';

/**
 * `@Cache` options. `R` is the method's result as the callbacks see it (`Promise<T>` unwrapped), `A` its
 * arguments: both are inferred from the callbacks' annotations or given as `@Cache<Token>(...)`, and checked
 * against the decorated method.
 */
export interface CacheDecoratorOptions<R = unknown, A extends readonly unknown[] = readonly unknown[]>
  extends
    KeyOptions<A>,
    StoringDecoratorOptions<R>,
    ErrorCachingOptions,
    StampedeDecoratorOptions,
    TimeoutDecoratorOptions {
  /** Controllers only: HTTP methods whose responses are cached. Default `['GET', 'HEAD']`. */
  methods?: string[];
  /**
   * Controllers only: send an `ETag` (a hash of the result) and answer `304 Not Modified` to an
   * `If-None-Match` naming the current one; a stored result answers without running the handler.
   */
  etag?: boolean;
}

/**
 * Returns the stored result until it expires; on a miss runs the method once (concurrent misses share
 * the run) and stores the result. Works on controller handlers and on any provider method.
 *
 * @example
 * ```ts
 * ;@Cache({ ttl: '5m', key: 'product:{id}' })
 * async findOne(id: string): Promise<Product> {
 *   return this.products.findOne(id);
 * }
 * ```
 */
export function Cache<R = unknown, A extends readonly unknown[] = readonly unknown[]>(
  options: CacheDecoratorOptions<R, A>,
): TypedMethodDecorator<R, A> & ClassDecorator {
  const where = '@Cache';
  checkOptions(where, options, [
    ...STORING_OPTION_NAMES,
    ...ERROR_OPTION_NAMES,
    'methods',
    'etag',
    ...STAMPEDE_OPTION_NAMES,
    ...TIMEOUT_OPTION_NAMES,
  ]);
  const timeouts = timeoutsOf(where, options);
  checkTags(where, options.tags);
  const methods = checkHttpMethods(where, options.methods);
  const store = withTtl(where, options as CacheDecoratorOptions, (policy) => ({
    ...policy,
    ...stampedeOptions(where, options, policy),
    ...(timeouts ? { timeouts } : {}),
    // A run that hangs past hardTimeout is not joined by later callers: they start their own.
    ...(timeouts?.hardTimeout === undefined ? {} : { shareFor: timeouts.hardTimeout }),
  }));
  if (options.etag !== undefined && typeof options.etag !== 'boolean') {
    throw new CashewsConfigError(`${where}: etag must be true or false.`);
  }
  const spec = {
    where,
    definition: timeouts ? timedCacheDefinition : cacheDefinition,
    options: { ...store, etag: options.etag === true },
    keys: options,
    tags: options.tags,
    methods,
    // Entries kept past their ttl are envelopes: default keys change with staleTtl (see storedForm).
    storedForm: timeouts?.staleTtl === undefined ? undefined : 'stale',
  };
  const decorate = storingDecorator(spec);
  return ((target: object, propertyKey?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (propertyKey === undefined || descriptor === undefined) {
      // Below each handler's own decorators: its @RateLimit, @CircuitBreaker or @Locked sees every request, hits
      // included, as guards run before a class-level CacheInterceptor in Nest.
      cacheHandlers(
        target as ClassType,
        options as CacheDecoratorOptions,
        storingDecorator({ ...spec, innermost: true }),
      );
    } else decorate(target, propertyKey, descriptor);
  }) as TypedMethodDecorator<R, A> & ClassDecorator;
}
