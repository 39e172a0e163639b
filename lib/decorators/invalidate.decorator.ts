import { CashewsConfigError } from '../errors.js';
import type { KeyFunction, KeySource } from '../keys/key-template.js';
import { stackedKey, type ClassType, type Layer } from '../strategies/layer.js';
import { parameterNames, REST_MARK, type AnyFunction } from '../keys/param-names.js';
import { invalidateDefinition, type InvalidateStrategyOptions } from '../strategies/invalidate.strategy.js';
import { compileTemplates, usesRequest, type TemplateSite } from '../tags/tag-templates.js';
import { defaultKeyedArgs } from './handler-args.js';
import { checkCacheName, checkOptions, strategyDecorator } from './strategy-decorator.js';
import { getLayers, layersFor } from './strategy-metadata.js';
import type { TypedMethodDecorator } from './typed-decorator.js';

/** A decorated method whose cached results `@Invalidate` removes: `[ItemsService, 'list']` or `ItemsService.prototype.list`. */
export type InvalidateMethodTarget =
  readonly [abstract new (...args: never[]) => unknown, string] | ((...args: never[]) => unknown);

/** What `@Invalidate` removes: a key pattern, a decorated method, or tags only (`{ tags: [...] }`). */
export type InvalidateTarget = string | InvalidateMethodTarget | { tags: string[]; cache?: string };

/**
 * `@Invalidate` options. `A` is this method's argument list as the `argsMap` functions take it, inferred from
 * their annotations (or given: `@Invalidate<[User]>(...)`) and checked against the decorated method.
 */
export interface InvalidateOptions<A extends readonly unknown[] = readonly unknown[]> {
  /**
   * Target method parameters computed from this method's arguments: `{ userId: (user) => user.id }`, or
   * the name of one of this method's parameters (`{ userId: 'id' }`). Target parameters not mapped take
   * this method's parameter of the same name, then `defaults`.
   */
  argsMap?: Record<string, string | ((...args: A) => unknown)>;
  /** Values for target parameters neither mapped nor named like one of this method's parameters. */
  defaults?: Record<string, unknown>;
  /** Tag templates to delete as well (`['user:{id}']`). */
  tags?: string[];
  /** Cache instance. Default: the target method's instance, else the default instance. */
  cache?: string;
}

/**
 * After the method succeeds, deletes what `target` names (a failure deletes nothing). Stack several to
 * invalidate several things.
 *
 * - a key pattern, with placeholders filled from this call: `@Invalidate('user:{user.id}:*')`;
 * - a decorated method, whose keys for the mapped arguments are removed:
 *   `@Invalidate([UsersService, 'get'], { argsMap: { userId: (user) => user.id } })`;
 * - tags, through the tag index (no scan): `@Invalidate({ tags: ['user:{id}'] })`.
 *
 * @example
 * ```ts
 * // drops ProductsService.findOne's entry for the same id
 * ;@Invalidate([ProductsService, 'findOne'])
 * async update(id: string, dto: ProductDto): Promise<Product> {
 *   return this.products.update(id, dto);
 * }
 * ```
 * @example
 * ```ts
 * // drops every key stored with the tag
 * ;@Invalidate({ tags: ['product:{id}'] })
 * async remove(id: string): Promise<void> {
 *   await this.products.remove(id);
 * }
 * ```
 */
export function Invalidate<A extends readonly unknown[] = readonly unknown[]>(
  target: InvalidateTarget,
  options: InvalidateOptions<A> = {},
): TypedMethodDecorator<unknown, A> {
  const where = '@Invalidate';
  checkOptions(where, options, ['argsMap', 'defaults', 'tags'], ['cache']);
  const tagsOnly = typeof target === 'object' && target !== null && !Array.isArray(target);
  if (tagsOnly) {
    checkOptions(`${where}({ tags })`, target, ['tags'], ['cache']);
    if (options.argsMap || options.defaults) {
      throw new CashewsConfigError(`${where}: argsMap and defaults only apply to a target method.`);
    }
  }
  if (tagsOnly && !Array.isArray((target as { tags: unknown }).tags)) {
    throw new CashewsConfigError(`${where}({ tags }): tags must be an array of templates such as ['user:{id}'].`);
  }
  if (options.tags !== undefined && !Array.isArray(options.tags)) {
    throw new CashewsConfigError(`${where}: tags must be an array of templates such as ['user:{id}'].`);
  }
  const tagTemplates = [...(tagsOnly ? (target as { tags: string[] }).tags : []), ...(options.tags ?? [])];
  if (typeof target === 'string' && (options.argsMap || options.defaults)) {
    throw new CashewsConfigError(`${where}: argsMap and defaults only apply to a target method, not to a pattern.`);
  }
  return ((owner: object, propertyKey: string | symbol, descriptor: PropertyDescriptor) => {
    const site: TemplateSite = { where, target: owner, propertyKey, method: descriptor.value };
    const patterns: KeyFunction[] = typeof target === 'string' ? compileTemplates(site, [target], 'pattern') : [];
    const tags = compileTemplates(site, tagTemplates, 'tag');
    let keys: KeyFunction[] = [];
    let forget: Array<(instance: object, source: KeySource) => void> = [];
    let reference: InvalidateStrategyOptions['reference'];
    let cacheName = options.cache ?? (tagsOnly ? (target as { cache?: string }).cache : undefined);
    checkCacheName(where, cacheName);
    if (typeof target === 'function' || Array.isArray(target)) {
      const resolved = methodKeys(site, target as InvalidateMethodTarget, options as InvalidateOptions);
      keys = resolved.keys;
      forget = resolved.forget;
      cacheName ??= resolved.cacheName;
      reference = resolved.reference;
    }
    strategyDecorator({
      definition: invalidateDefinition,
      options: { patterns, keys, tags, forget, reference },
      keys: { cache: cacheName },
      // The explorer rejects {req.…} on provider methods through this flag.
      usesRequest: usesRequest(typeof target === 'string' ? [target, ...tagTemplates] : tagTemplates),
      templates: [...patterns, ...tags],
    })(owner, propertyKey, descriptor);
  }) as TypedMethodDecorator<unknown, A>;
}

function methodKeys(
  site: TemplateSite,
  target: InvalidateMethodTarget,
  options: InvalidateOptions,
): {
  keys: KeyFunction[];
  forget: Array<(instance: object, source: KeySource) => void>;
  cacheName?: string;
  reference?: InvalidateStrategyOptions['reference'];
} {
  const here = describe(site);
  const [method, name, type] = targetMethod(here, target);
  const declared = getLayers(method) ?? [];
  // [UsersRepo, 'findOne'] names UsersRepo's keys, also when it inherits findOne (default keys name the instance's class).
  const layers = (type ? layersFor(declared, type) : declared).filter((layer) => layer.storesResult);
  if (layers.length === 0) {
    throw new CashewsConfigError(`${here}: target ${name} has no caching decorator, so it has no keys to delete.`);
  }
  for (const layer of layers) {
    if (!layer.hasTemplate && Reflect.getMetadata('path', method as object) !== undefined) {
      throw new CashewsConfigError(
        `${here}: target ${name} is a controller handler with a route-based default key; give its @${layer.strategy} a key template.`,
      );
    }
    if (layer.usesRequest) {
      throw new CashewsConfigError(
        `${here}: target ${name} builds its key from the request ({req.…}), not from arguments.`,
      );
    }
  }
  const names = new Set(layers.map((layer) => layer.cacheName));
  if (names.size > 1 && options.cache === undefined) {
    throw new CashewsConfigError(
      `${here}: target ${name} caches in several instances; stack one @Invalidate per instance with { cache }.`,
    );
  }
  const mapped = argumentMapper(here, name, site.method as AnyFunction, method as AnyFunction, options);
  // A handler answering outside HTTP keys its default key without its context, socket or custom decorators' values.
  const keyed = type && Array.isArray(target) ? defaultKeyedArgs(type, target[1] as string) : undefined;
  const mapArgs = (layer: Layer) =>
    keyed && !layer.hasTemplate ? (args: readonly unknown[]) => keyed(mapped(args)) : mapped;
  // Each layer's key, and the keys stored beside it: those of a strategy that keeps more than one entry per call
  // (`derivedKeys`), and those of a storing layer stacked under another with the same key (`stackedKey`).
  const stacked = layers.filter((layer) => layer.storesResult).map((layer) => layer.strategy);
  const keys = layers.flatMap((layer) => {
    const map = mapArgs(layer);
    const keyOf = (source: KeySource) => layer.key({ args: map(source.args) });
    const suffixed = [
      ...(layer.definition.derivedKeys ?? []).map((suffix) => (source: KeySource) => keyOf(source) + suffix),
      ...(layer.storesResult ? stacked : []).map(
        (strategy) => (source: KeySource) => stackedKey(keyOf(source), strategy),
      ),
    ];
    return [keyOf, ...suffixed];
  });
  // What a target layer keeps in process beside the backend (`@Adaptive`'s last good results), dropped with its keys.
  // Under its own key, or the stacked one when it runs below a storing layer with the same key.
  const forget = layers.flatMap((layer) => {
    const { forget: drop } = layer.definition;
    if (!drop) return [];
    return [
      (instance: object, source: KeySource) => {
        const key = layer.key({ args: mapArgs(layer)(source.args) });
        drop(layer.options, instance, key);
        drop(layer.options, instance, stackedKey(key, layer.strategy));
      },
    ];
  });
  const reference =
    type || typeof method !== 'function' ? undefined : { method, name: method.name, base: layers[0].base };
  return { keys, forget, cacheName: layers[0].cacheName, reference };
}

function targetMethod(here: string, target: InvalidateMethodTarget): [unknown, string, ClassType?] {
  if (typeof target === 'function') return [target, target.name || 'the target'];
  const [type, name] = target as readonly [unknown, unknown];
  if (typeof type !== 'function' || typeof name !== 'string') {
    throw new CashewsConfigError(`${here}: a target method is [Class, 'method'] or a method reference.`);
  }
  const method = (type.prototype as Record<string, unknown>)[name];
  if (typeof method !== 'function') {
    throw new CashewsConfigError(`${here}: ${type.name} has no method "${name}".`);
  }
  return [method, `${type.name}.${name}`, type as ClassType];
}

/**
 * Builds the target's arguments from this call's: `argsMap`, then a parameter of the same name, then
 * `defaults`. Every target parameter must be covered (checked here, at decoration time).
 */
function argumentMapper(
  here: string,
  name: string,
  own: AnyFunction,
  target: AnyFunction,
  options: InvalidateOptions,
): (args: readonly unknown[]) => unknown[] {
  const ownParams = parameterNames(own).map(plainName);
  const targetParams = parameterNames(target);
  const argsMap = options.argsMap ?? {};
  const defaults = options.defaults ?? {};
  const known = new Set(targetParams.map(plainName));
  for (const key of [...Object.keys(argsMap), ...Object.keys(defaults)]) {
    if (!known.has(key)) {
      throw new CashewsConfigError(
        `${here}: "${key}" is not a parameter of ${name} (parameters: ${[...known].join(', ') || 'none'}).`,
      );
    }
  }
  const readers = targetParams.map((param): ((args: readonly unknown[]) => unknown) => {
    const plain = plainName(param);
    if (Object.hasOwn(argsMap, plain)) {
      const mapping = argsMap[plain];
      if (typeof mapping === 'function') return (args) => mapping(...args);
      const index = ownParams.indexOf(mapping);
      if (typeof mapping !== 'string' || index === -1) {
        throw new CashewsConfigError(
          `${here}: argsMap.${plain} must be a function of this method's arguments or the name of one of its parameters.`,
        );
      }
      return (args) => args[index];
    }
    const index = ownParams.indexOf(plain);
    if (index !== -1) return (args) => args[index];
    if (Object.hasOwn(defaults, plain)) return () => defaults[plain];
    throw new CashewsConfigError(
      `${here}: nothing gives ${name}'s parameter "${plain}"; map it with argsMap or give it in defaults.`,
    );
  });
  const rest = targetParams.length > 0 && targetParams[targetParams.length - 1].startsWith(REST_MARK);
  return (args) => {
    const out = readers.map((read) => read(args));
    if (rest) {
      const last = out.pop();
      return [...out, ...(Array.isArray(last) ? last : [last])];
    }
    return out;
  };
}

function plainName(param: string): string {
  return param.startsWith(REST_MARK) ? param.slice(REST_MARK.length) : param;
}

function describe(site: TemplateSite): string {
  const owner = typeof site.target === 'function' ? site.target : site.target.constructor;
  return `@Invalidate on ${(owner as { name: string }).name}.${String(site.propertyKey)}`;
}
