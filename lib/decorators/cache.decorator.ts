import type { Duration } from '../duration.js';
import { CashewsConfigError } from '../errors.js';
import { compileTemplates } from '../tags/tag-templates.js';
import { cacheDefinition } from '../strategies/cache.strategy.js';
import { withTtl } from '../strategies/store-policy.js';
import type { ConditionOption, TtlOption } from '../strategies/strategy.js';
import { STAMPEDE_OPTION_NAMES, stampedeOptions, type StampedeDecoratorOptions } from './stampede-options.js';
import { cacheHandlers, type ClassType } from './class-cache.js';
import { checkOptions, strategyDecorator, type KeyOptions } from './strategy-decorator.js';
import type { TypedMethodDecorator } from './typed-decorator.js';

/**
 * `@Cache` options. `R` is the method's result as the callbacks see it (`Promise<T>` unwrapped), `A` its
 * arguments: both are inferred from the callbacks' annotations or given as `@Cache<Token>(...)`, and checked
 * against the decorated method.
 */
export interface CacheDecoratorOptions<R = unknown, A extends readonly unknown[] = readonly unknown[]>
  extends KeyOptions<A>, StampedeDecoratorOptions {
  /**
   * Time to live: a duration, or a function of the result (e.g. an upstream `expires_in`). Default: the cache
   * instance's default TTL (`CashewsModule.forRoot(url, { ttl: '5m' })`); without either, bootstrap fails.
   */
  ttl?: TtlOption<R>;
  /** Store only when this holds; `'notNullish'` skips `null`/`undefined`. Default: store everything. */
  condition?: ConditionOption<R>;
  /** Store only when the call took longer than this. */
  timeCondition?: Duration;
  /** Controllers only: HTTP methods whose responses are cached. Default `['GET', 'HEAD']`. */
  methods?: string[];
  /**
   * Tags recorded with each stored result, as templates (`'user:{id}'`); `cache.deleteTags('user:42')` or
   * `@Invalidate({ tags: ['user:{id}'] })` removes every key of a tag without scanning.
   */
  tags?: string[];
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
    'ttl',
    'condition',
    'timeCondition',
    'methods',
    'tags',
    'etag',
    ...STAMPEDE_OPTION_NAMES,
  ]);
  const store = withTtl(where, options as CacheDecoratorOptions, (policy) => ({
    ...policy,
    ...stampedeOptions(where, options, policy),
  }));
  if (options.tags !== undefined && !Array.isArray(options.tags)) {
    throw new CashewsConfigError(`${where}: tags must be an array of templates such as ['user:{id}'].`);
  }
  if (options.etag !== undefined && typeof options.etag !== 'boolean') {
    throw new CashewsConfigError(`${where}: etag must be true or false.`);
  }
  const decorate = (target: object, propertyKey: string | symbol, descriptor: PropertyDescriptor): void => {
    const tags = options.tags?.length
      ? compileTemplates({ where, target, propertyKey, method: descriptor.value }, options.tags, 'tag')
      : undefined;
    strategyDecorator({
      definition: cacheDefinition,
      options: { ...store, tags, etag: options.etag === true },
      keys: options,
      methods: options.methods?.map((method) => method.toUpperCase()),
    })(target, propertyKey, descriptor);
  };
  return ((target: object, propertyKey?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (propertyKey === undefined || descriptor === undefined) {
      cacheHandlers(target as ClassType, options as CacheDecoratorOptions, decorate);
    } else decorate(target, propertyKey, descriptor);
  }) as TypedMethodDecorator<R, A> & ClassDecorator;
}
