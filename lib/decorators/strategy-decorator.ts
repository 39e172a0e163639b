import { CashewsConfigError } from '../errors.js';
import { compileKey } from '../keys/key-template.js';
import { functionFingerprint } from '../keys/fingerprint.js';
import { parameterNames, type AnyFunction } from '../keys/param-names.js';
import type { Layer } from '../strategies/executor.js';
import type { Strategy } from '../strategies/strategy.js';
import { guardMethod, originalMethod } from './method-guard.js';
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
  /**
   * Version segment of the default key (`ItemsService:find:v<version>:42`). Default: a fingerprint of the
   * method's source, so editing the method starts from fresh keys. Not allowed with `key` (put a version
   * into the template instead).
   */
  version?: string | number;
}

/** Option names every strategy decorator accepts besides its own. */
export const KEY_OPTION_NAMES: readonly string[] = ['key', 'prefix', 'cache', 'version'];

/** Rejects unknown option names, so a typo such as `tll` fails at start-up instead of being ignored. */
export function checkOptions(
  where: string,
  options: object,
  allowed: readonly string[],
  common: readonly string[] = KEY_OPTION_NAMES,
): void {
  if (typeof options !== 'object' || options === null) {
    throw new CashewsConfigError(`${where} expects an options object such as { ttl: '1m' }.`);
  }
  for (const name of Object.keys(options)) {
    if (!allowed.includes(name) && !common.includes(name)) {
      throw new CashewsConfigError(
        `${where}: unknown option "${name}". Accepted: ${[...allowed, ...common].join(', ')}.`,
      );
    }
  }
}

const VERSION = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The version segment of a layer's default key: the explicit `version`, or a fingerprint of the method
 * source computed here, once, at decoration time.
 */
export function keyVersion(where: string, keys: KeyOptions, method: AnyFunction): string {
  if (keys.version === undefined) return functionFingerprint(method as never);
  const version = String(keys.version);
  if (typeof keys.version !== 'string' && typeof keys.version !== 'number') {
    throw new CashewsConfigError(`${where}: version must be a string or a number.`);
  }
  if (!VERSION.test(version)) {
    throw new CashewsConfigError(
      `${where}: version ${JSON.stringify(version)} may hold only letters, digits, ".", "_" and "-".`,
    );
  }
  if (keys.key !== undefined) {
    throw new CashewsConfigError(
      `${where}: version only applies to default keys; with a key template put the version into it ('product:v2:{id}').`,
    );
  }
  return version;
}

export interface StrategyDecoratorSpec<O> {
  strategy: string;
  run: Strategy<O>;
  options: O;
  keys: KeyOptions;
  storesResult: boolean;
  methods?: readonly string[];
  /** Default key without a template: the method alone, or (HTTP) the method plus the client. See {@link Layer}. */
  defaultKey?: 'method' | 'client';
}

/**
 * Turns a validated strategy into a method decorator that only records metadata: the key template is
 * compiled here, once, so a bad placeholder fails when the class is defined, not at the first call.
 */
export function strategyDecorator<O>(spec: StrategyDecoratorSpec<O>): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    // With stacked decorators, descriptor.value is already the guard (see method-guard.ts).
    const method = originalMethod(descriptor.value);
    const owner = typeof target === 'function' ? target : target.constructor;
    const base = `${owner.name}:${String(propertyKey)}`;
    if (typeof method !== 'function') {
      throw new CashewsConfigError(`@${spec.strategy} on ${base}: only methods can be decorated.`);
    }
    const template = spec.keys.key;
    const fixedKey =
      template === undefined && spec.defaultKey
        ? `${spec.keys.prefix ? `${spec.keys.prefix}:` : ''}${base}`
        : undefined;
    // Only stored results are versioned: a lock (@Locked) must stay shared by old and new code.
    const version = spec.storesResult
      ? keyVersion(`@${spec.strategy} on ${base}`, spec.keys, method as AnyFunction)
      : undefined;
    const layer: Layer<O> = {
      strategy: spec.strategy,
      run: spec.run,
      options: spec.options,
      base,
      key:
        fixedKey !== undefined
          ? () => fixedKey
          : compileKey({
              base,
              params: parameterNames(method as AnyFunction),
              template,
              prefix: spec.keys.prefix,
              version,
              extraRoots: readRouteArgs(owner, propertyKey).byName,
              allowRequest: true,
              // A placeholder rendering undefined must not silently share a key (see executor.ts).
              strict: true,
            }),
      version,
      hasTemplate: template !== undefined,
      prefix: spec.keys.prefix,
      cacheName: spec.keys.cache,
      storesResult: spec.storesResult,
      methods: spec.methods,
      usesRequest: template !== undefined && /\{req[.}:]/.test(template),
      defaultKey: spec.defaultKey,
      statsSlot: undefined,
    };
    // A call that does not go through the explorer or the interceptor warns once instead of silently
    // running undecorated.
    const previous = descriptor.value as (...args: unknown[]) => unknown;
    const guard = guardMethod(owner, propertyKey, previous, spec.strategy);
    descriptor.value = guard as typeof descriptor.value;
    // TypeScript defines the property from the descriptor afterwards; a decorator applied by hand does not.
    const own = Object.getOwnPropertyDescriptor(target, propertyKey);
    if (guard !== previous && own?.value === previous)
      Object.defineProperty(target, propertyKey, { ...own, value: guard });
    addLayer(guard, layer as Layer);
  };
}
