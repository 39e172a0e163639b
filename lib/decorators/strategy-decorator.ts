import { CashewsConfigError } from '../errors.js';
import { compileKey } from '../keys/key-template.js';
import { parameterNames, type AnyFunction } from '../keys/param-names.js';
import type { Layer } from '../strategies/executor.js';
import type { Strategy } from '../strategies/strategy.js';
import { readRouteArgs } from './route-args.js';
import { addLayer } from './strategy-metadata.js';

/** Key options every strategy decorator accepts. */
export interface KeyOptions {
  /**
   * Key template: `'user:{id}'`, `'{user.id}'`, `'{0}'`, `'search:{q:hash}'`, `'{req.user.id}'` (controllers).
   * Default: `ClassName:method` plus the arguments (controllers: plus the route and query string).
   */
  key?: string;
  /** Prepended to the key as `prefix:`. */
  prefix?: string;
  /** Name of the cache instance to use (`CashewsModule.forRoot(url, { name })`). Default: the default instance. */
  cache?: string;
}

/** Rejects unknown option names, so a typo such as `tll` fails at start-up instead of being ignored. */
export function checkOptions(where: string, options: object, allowed: readonly string[]): void {
  if (typeof options !== 'object' || options === null) {
    throw new CashewsConfigError(`${where} expects an options object such as { ttl: '1m' }.`);
  }
  for (const name of Object.keys(options)) {
    if (!allowed.includes(name) && !['key', 'prefix', 'cache'].includes(name)) {
      throw new CashewsConfigError(
        `${where}: unknown option "${name}". Accepted: ${[...allowed, 'key', 'prefix', 'cache'].join(', ')}.`,
      );
    }
  }
}

export interface StrategyDecoratorSpec<O> {
  strategy: string;
  run: Strategy<O>;
  options: O;
  keys: KeyOptions;
  storesResult: boolean;
  methods?: readonly string[];
}

/**
 * Turns a validated strategy into a method decorator that only records metadata: the key template is
 * compiled here, once, so a bad placeholder fails when the class is defined, not at the first call.
 */
export function strategyDecorator<O>(spec: StrategyDecoratorSpec<O>): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const method = descriptor.value;
    const owner = typeof target === 'function' ? target : target.constructor;
    const base = `${owner.name}:${String(propertyKey)}`;
    if (typeof method !== 'function') {
      throw new CashewsConfigError(`@${spec.strategy} on ${base}: only methods can be decorated.`);
    }
    const template = spec.keys.key;
    const layer: Layer<O> = {
      strategy: spec.strategy,
      run: spec.run,
      options: spec.options,
      base,
      key: compileKey({
        base,
        params: parameterNames(method as AnyFunction),
        template,
        prefix: spec.keys.prefix,
        extraRoots: readRouteArgs(owner, propertyKey).byName,
        allowRequest: true,
      }),
      hasTemplate: template !== undefined,
      prefix: spec.keys.prefix,
      cacheName: spec.keys.cache,
      storesResult: spec.storesResult,
      methods: spec.methods,
      usesRequest: template !== undefined && /\{req[.}:]/.test(template),
    };
    addLayer(method, layer as Layer);
  };
}
