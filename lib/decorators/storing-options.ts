import type { Duration } from '../duration.js';
import { CashewsConfigError } from '../errors.js';
import type { CacheableErrorClass } from '../strategies/cached-errors.js';
import type { StrategyDefinition } from '../strategies/layer.js';
import type { StorePolicy } from '../strategies/store-policy.js';
import type { ConditionOption, TtlOption } from '../strategies/strategy.js';
import { compileTemplates, usesRequest } from '../tags/tag-templates.js';
import { strategyDecorator, type KeyOptions } from './strategy-decorator.js';

/**
 * Options every decorator that stores results accepts: `@Cache`, `@Early`, `@Soft`, `@HitCache` and `@Failover`.
 * `R` is the method's result as the callbacks see it (`Promise<T>` unwrapped).
 */
export interface StoringDecoratorOptions<R = unknown> {
  /**
   * Time to live: a duration, or a function of the result and the call's arguments (an upstream `expires_in`).
   * Default: the cache instance's default TTL (`CashewsModule.forRoot(url, { ttl: '5m' })`); without either,
   * bootstrap fails.
   */
  ttl?: TtlOption<R>;
  /** Store only when this holds; `'notNullish'` skips `null`/`undefined`. Default: store every result. */
  condition?: ConditionOption<R>;
  /** Store only results of calls that took longer than this. */
  timeCondition?: Duration;
  /**
   * Tags recorded with each stored entry, as templates (`'user:{id}'`); `cache.deleteTags('user:42')` or
   * `@Invalidate({ tags: ['user:{id}'] })` removes every key of a tag without scanning.
   */
  tags?: string[];
  /**
   * A method returning a stream (an async iterable, an RxJS Observable, a Node readable stream, a `StreamableFile`)
   * is recorded chunk by chunk while its caller reads it, and stored once it ends; past this many bytes in all the
   * recording stops and nothing is stored (the caller still gets every chunk). A number of bytes or `'256KB'`,
   * `'1MB'`. Default `'1MB'`.
   */
  maxBytes?: number | string;
}

/**
 * Options of the decorators that can store errors (`@Cache`, `@Early`, `@Soft`, `@HitCache`): a negative cache for
 * answers such as "404 from upstream".
 */
export interface ErrorCachingOptions {
  /**
   * Thrown errors of these classes (or subclasses) are stored and re-thrown on a hit, as the same class with their
   * message and fields (an `HttpException`'s status and response). Each class must be registered before the
   * decorated class is defined (`@CacheableClass()`, or `registerCacheableClass(NotFoundException)`).
   */
  cacheErrors?: readonly CacheableErrorClass[];
  /** Store only the `cacheErrors`, never a successful result. Default `false`. */
  onlyErrors?: boolean;
  /** How long a stored error lives. Default: the decorator's `ttl` (required when `ttl` is a function). */
  errorTtl?: Duration;
}

/** Option names of {@link StoringDecoratorOptions}. */
export const STORING_OPTION_NAMES = ['ttl', 'condition', 'timeCondition', 'tags', 'maxBytes'] as const;

/** Option names of {@link ErrorCachingOptions}. */
export const ERROR_OPTION_NAMES = ['cacheErrors', 'onlyErrors', 'errorTtl'] as const;

/** @throws CashewsConfigError unless `tags` is an array of non-empty string templates (or absent). */
export function checkTags(where: string, tags: unknown): void {
  if (tags === undefined) return;
  if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string' || tag === '')) {
    throw new CashewsConfigError(
      `${where}: tags must be an array of non-empty templates such as ['user:{id}'] (got ${JSON.stringify(tags) ?? String(tags)}).`,
    );
  }
}

/** What {@link storingDecorator} needs: the strategy, its validated options, the key options and the raw tags. */
export interface StoringDecoratorSpec<O extends StorePolicy> {
  where: string;
  definition: StrategyDefinition<O>;
  options: O;
  keys: KeyOptions;
  tags?: readonly string[];
  methods?: readonly string[];
  /** See `StrategyDecoratorSpec.storedForm`. */
  storedForm?: string;
  /** See `StrategyDecoratorSpec.innermost`. */
  innermost?: boolean;
}

/**
 * The method decorator of a storing strategy: compiles the tag templates against the decorated method (once, at
 * decoration time), then records the layer like any strategy decorator.
 */
export function storingDecorator<O extends StorePolicy>(
  spec: StoringDecoratorSpec<O>,
): (target: object, propertyKey: string | symbol, descriptor: PropertyDescriptor) => void {
  return (target, propertyKey, descriptor) => {
    const templates = spec.tags?.length ? spec.tags : undefined;
    const tags = templates
      ? compileTemplates({ where: spec.where, target, propertyKey, method: descriptor.value }, templates, 'tag')
      : undefined;
    strategyDecorator<O>({
      definition: spec.definition,
      // Spread, not assigned: options built later from the instance's default TTL keep their marker (store-policy.ts).
      options: tags ? { ...spec.options, tags } : spec.options,
      keys: spec.keys,
      methods: spec.methods,
      storedForm: spec.storedForm,
      innermost: spec.innermost,
      usesRequest: templates !== undefined && usesRequest(templates),
      templates: tags,
    })(target, propertyKey, descriptor);
  };
}
