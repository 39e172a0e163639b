import { RequestMethod } from '@nestjs/common';
import { CashewsConfigError } from '../errors.js';
import type { ClassType } from '../strategies/layer.js';
import { CACHED_METHODS } from './http-methods.js';
import { getLayers } from './strategy-metadata.js';

// Nest's own metadata keys of route handlers (`@Get()` and friends), stable across Nest 11 and 12.
const PATH_METADATA = 'path';
const METHOD_METADATA = 'method';
/** Set on a class by a class-level `@Cache` (the explorer refuses it on providers). */
const CLASS_CACHE = 'cashews:class-cache';
/** Set on a handler by `@NoCache()`. */
const NO_CACHE = 'cashews:no-cache';

export type { ClassType } from '../strategies/layer.js';

/** Options of a class-level `@Cache` that name one handler's arguments, so cannot apply to every handler. */
const PER_HANDLER_OPTIONS = ['key', 'skipArgs', 'tags'] as const;

/**
 * A class-level `@Cache`: applies the method decorator `decorate` to every route handler of the controller
 * (declared or inherited) answering one of `options.methods` (default GET and HEAD), except handlers marked
 * `@NoCache()` and handlers with a result-storing decorator of their own (which overrides the class's).
 * Class decorators run after method decorators, so every handler's route metadata is already there.
 */
export function cacheHandlers(
  type: ClassType,
  options: { methods?: string[] } & Partial<Record<(typeof PER_HANDLER_OPTIONS)[number], unknown>>,
  decorate: (target: object, propertyKey: string | symbol, descriptor: PropertyDescriptor) => void,
): void {
  const where = `@Cache on the class ${type.name}`;
  for (const name of PER_HANDLER_OPTIONS) {
    if (options[name] !== undefined) {
      throw new CashewsConfigError(
        `${where}: "${name}" names one handler's arguments, so it cannot apply to every handler. Give that ` +
          `handler its own @Cache({ ${name} }), which overrides the class's. Class-level options: ttl, ` +
          'condition, timeCondition, cacheErrors, onlyErrors, errorTtl, methods, etag, prefix, cache, version, lock, ' +
          'lockTtl, step.',
      );
    }
  }
  Reflect.defineMetadata(CLASS_CACHE, true, type);
  const methods = options.methods?.map((method) => method.toUpperCase()) ?? CACHED_METHODS;
  const prototype = type.prototype as object;
  const seen = new Set<string | symbol>();
  for (
    let proto: object | null = prototype;
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const key of Reflect.ownKeys(proto)) {
      if (key === 'constructor' || seen.has(key)) continue;
      seen.add(key);
      const descriptor = Object.getOwnPropertyDescriptor(proto, key);
      const handler: unknown = descriptor?.value;
      if (!descriptor || typeof handler !== 'function') continue;
      if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
      if (Reflect.getMetadata(NO_CACHE, handler) === true) continue;
      const layers = getLayers(handler);
      if (layers?.some((layer) => layer.storesResult)) continue;
      // An inherited handler with decorators of its own keeps them; its class is not changed from here.
      if (proto !== prototype && layers) continue;
      const verb = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number] as string | undefined;
      if (verb !== 'ALL' && !methods.includes(verb ?? 'GET')) continue;
      const copy = { ...descriptor };
      decorate(prototype, key, copy);
      if (proto !== prototype) Object.defineProperty(prototype, key, copy);
    }
  }
}

/** Whether a class-level `@Cache` decorated `type`. */
export function hasClassCache(type: unknown): boolean {
  return typeof type === 'function' && Reflect.getMetadata(CLASS_CACHE, type) === true;
}

/**
 * Leaves a handler out of its controller's class-level `@Cache` (a handler with its own `@Cache`, `@Early`...
 * needs no `@NoCache()`: its own decorator overrides the class's).
 *
 * @example
 * ```ts
 * // a controller (with its Controller and Get decorators) whose GET handlers are cached, but one
 * ;@Cache({ ttl: '1m' })
 * export class ProductsController {
 *   constructor(private readonly products: ProductsService) {}
 *
 *   ;@NoCache()
 *   list(): Promise<Product[]> {
 *     return this.products.list();
 *   }
 * }
 * ```
 */
export function NoCache(): MethodDecorator {
  return (_target, _propertyKey, descriptor) => {
    if (typeof descriptor.value !== 'function') {
      throw new CashewsConfigError('@NoCache() applies to handler methods only.');
    }
    Reflect.defineMetadata(NO_CACHE, true, descriptor.value);
  };
}
