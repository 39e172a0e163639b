import { registerCacheableClass, type CacheableClassType } from '../codec/class-registry.js';
import { checkOptions } from './strategy-decorator.js';

/** Options of {@link CacheableClass}. */
export interface CacheableClassOptions {
  /**
   * Name stored with each instance. Default: the class name. Give one when two classes share a name, or
   * to keep the name stable under a minifier.
   */
  name?: string;
}

/**
 * Lets instances of the class come back from the cache as instances of it (otherwise a class instance
 * comes back as a plain object). Each stored instance carries a fingerprint of the class source: after
 * the class definition changes, a value stored by the old code reads as a miss instead of a wrong shape.
 * Decoding restores the prototype and defines the stored own fields; no constructor or setter of the class runs.
 *
 * @example
 * ```ts
 * ;@CacheableClass()
 * export class Money {
 *   constructor(
 *     readonly amount: number,
 *     readonly currency: string,
 *   ) {}
 * }
 * ```
 */
export function CacheableClass(options: CacheableClassOptions = {}): ClassDecorator {
  checkOptions('@CacheableClass', options, ['name'], []);
  return (target) => {
    registerCacheableClass(target as unknown as CacheableClassType, options.name ?? target.name);
  };
}
