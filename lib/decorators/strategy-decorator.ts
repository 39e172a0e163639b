import { describeArgument } from '../config/describe-argument.js';
import { CashewsConfigError } from '../errors.js';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants.js';
import { CashewsRouteInterceptor } from '../interceptors/cashews-route.interceptor.js';
import { compileKey, compileKeyFunction, keyHead, templateReads, type KeyFunction } from '../keys/key-template.js';
import { functionFingerprint } from '../keys/fingerprint.js';
import { parameterNames, REST_MARK, type AnyFunction } from '../keys/param-names.js';
import type { ClassType, Layer, StrategyDefinition } from '../strategies/layer.js';
import { guardMethod, originalMethod } from './method-guard.js';
import { namedArguments } from './handler-args.js';
import { addLayer } from './strategy-metadata.js';
import type { KeyFunctionOption } from './typed-decorator.js';

/**
 * Key options every strategy decorator accepts. `A` is the argument list a key function takes (inferred from
 * its annotation, checked against the decorated method's arguments).
 */
export interface KeyOptions<A extends readonly unknown[] = readonly unknown[]> {
  /**
   * Key template: `'user:{id}'`, `'{user.id}'`, `'{0}'`, `'search:{q:hash}'`, `'{req.user.id}'` (controllers).
   * Or a function of the call, `(args, req?) => string` (`req` on controllers only; a controller's `args` are
   * its route arguments read from the request, before pipes). The function's result is used after `prefix:`
   * with `*`, `%`, glob characters and whitespace escaped; `undefined`, `null` or `''` means "no key for this
   * call", handled like an undefined placeholder. Default: `ClassName:method` plus the arguments (controllers:
   * plus the route and query string), `ClassName` being the class of the instance (of the controller), also for a
   * method it inherits. A template or function is used as written for every class that inherits the method.
   */
  key?: string | KeyFunctionOption<A>;
  /**
   * Arguments left out of the default key, by position or parameter name: `skipArgs: ['manager']` for a
   * technical argument such as an `EntityManager` or a session. Default keys of provider methods only.
   */
  skipArgs?: ReadonlyArray<number | string>;
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
export const KEY_OPTION_NAMES: readonly string[] = ['key', 'skipArgs', 'prefix', 'cache', 'version'];

/**
 * Key options of a decorator that stores no result (`@Locked`, `@RateLimit`...): its keys carry no version, since a
 * lock, a limit or a circuit must stay shared by old and new code, so `version` would be accepted and ignored.
 */
export type UnversionedKeyOptions<A extends readonly unknown[] = readonly unknown[]> = Omit<KeyOptions<A>, 'version'>;

/** {@link KEY_OPTION_NAMES} of a decorator that stores no result: without `version`. */
export const UNVERSIONED_KEY_OPTION_NAMES: readonly string[] = KEY_OPTION_NAMES.filter((name) => name !== 'version');

/**
 * Key options of a decorator whose default key is the method (or, on controllers, the client), never its arguments
 * (`@RateLimit`, `@SlidingRateLimit`, `@CircuitBreaker`, `@PerfDegradation`): no `skipArgs` either.
 */
export type MethodKeyOptions<A extends readonly unknown[] = readonly unknown[]> = Omit<
  UnversionedKeyOptions<A>,
  'skipArgs'
>;

/** {@link UNVERSIONED_KEY_OPTION_NAMES} of a decorator whose default key is the method: without `skipArgs`. */
export const METHOD_KEY_OPTION_NAMES: readonly string[] = UNVERSIONED_KEY_OPTION_NAMES.filter(
  (name) => name !== 'skipArgs',
);

/** Why `version` is refused by `where`, a decorator that stores no result, and which decorators take it. */
function versionRefused(where: string): CashewsConfigError {
  return new CashewsConfigError(
    `${where}: version is not an option of this decorator. It versions the default keys of stored results, and ` +
      'the keys of a decorator that stores none (a lock, a rate limit, a circuit, a Bloom filter) are not ' +
      'versioned: old and new code share them. version is taken by @Cache, @Failover, @HitCache, @Early, @Soft ' +
      'and @Adaptive.',
  );
}

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
      // Options that exist but not on this decorator are said as such, not as typos. A decorator whose keys carry no
      // version names those that take it; one whose key is the method has no arguments to leave out.
      if (name === 'version') throw versionRefused(where);
      if (name === 'skipArgs') {
        throw new CashewsConfigError(
          `${where}: skipArgs does not apply: the default key of ${where} is the method, not its arguments.`,
        );
      }
      throw new CashewsConfigError(
        `${where}: unknown option "${name}". Accepted: ${[...allowed, ...common].join(', ')}.`,
      );
    }
  }
}

/**
 * Refuses a `cache` option that cannot name an instance: `forRoot(url, { name })` names are strings, and a number
 * (`cache: 5`) would be turned into the name '5' of another instance, unsaid.
 */
export function checkCacheName(where: string, cache: unknown): void {
  if (cache !== undefined && (typeof cache !== 'string' || cache === '')) {
    throw new CashewsConfigError(
      `${where}: cache must be the name of an instance registered with CashewsModule.forRoot(url, { name }), such as ` +
        `'sessions' (got ${describeArgument(cache)}).`,
    );
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

/**
 * Positions `skipArgs` leaves out of the default key, validated against the method's parameters: only with a
 * default key built from arguments (not with `key`, nor for decorators whose default key is the method).
 */
function skippedArgs<O>(
  where: string,
  spec: StrategyDecoratorSpec<O>,
  params: readonly string[],
): readonly number[] | undefined {
  const skip = spec.keys.skipArgs;
  if (skip === undefined) return undefined;
  if (!Array.isArray(skip)) {
    throw new CashewsConfigError(
      `${where}: skipArgs must be an array of positions or parameter names, e.g. ['manager'].`,
    );
  }
  if (spec.keys.key !== undefined || spec.defaultKey) {
    throw new CashewsConfigError(
      spec.keys.key !== undefined
        ? `${where}: skipArgs only applies to default keys; a key template or function names what it uses.`
        : `${where}: skipArgs does not apply: the default key of ${where} is the method, not its arguments.`,
    );
  }
  const names = params.map((param) => (param.startsWith(REST_MARK) ? param.slice(REST_MARK.length) : param));
  return (skip as ReadonlyArray<unknown>).map((entry) => {
    if (typeof entry === 'number' && Number.isInteger(entry) && entry >= 0 && entry < params.length) return entry;
    const index = typeof entry === 'string' ? names.indexOf(entry) : -1;
    if (index !== -1 && !/^__\d+$/.test(entry as string)) return index;
    throw new CashewsConfigError(
      `${where}: skipArgs entry ${JSON.stringify(entry)} is neither a parameter name nor a position; ` +
        `parameters: ${names.map((name, i) => `${i} ${name}`).join(', ') || 'none'}.`,
    );
  });
}

export interface StrategyDecoratorSpec<O> {
  /** The strategy (name, run, whether it stores), exported next to it (e.g. `cacheDefinition`). */
  definition: StrategyDefinition<O>;
  options: O;
  keys: KeyOptions;
  /** Templates other than the key (tags, invalidation patterns) read `{req.…}`: controller handlers only. */
  usesRequest?: boolean;
  /** Those templates, compiled: the arguments they read are the layer's too (see {@link Layer.reads}). */
  templates?: readonly KeyFunction[];
  methods?: readonly string[];
  /** Default key without a template: the method alone, or (HTTP) the method plus the client. See {@link Layer}. */
  defaultKey?: 'method' | 'client';
  /**
   * How entries are stored, when options make it differ from the strategy's usual form (`@Cache` with `staleTtl`
   * stores envelopes): appended to the default key's version, so that code of a previous deploy that stores the
   * other form never reads these entries, nor these code its entries.
   */
  storedForm?: string;
  /**
   * Record the layer inside the method's other layers instead of around them: a controller's class-level `@Cache`,
   * applied after the handler's own decorators, runs below them as a class-level CacheInterceptor runs after guards.
   */
  innermost?: boolean;
  /**
   * Options that name the method (`@Adaptive`'s circuit namespace), built again for a class that inherits the method
   * from its key base (`ClassName:method`, see {@link Layer.forClass}). Default: `options` for every class.
   */
  optionsFor?: (base: string) => O;
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
      throw new CashewsConfigError(`@${spec.definition.name} on ${base}: only methods can be decorated.`);
    }
    const where = `@${spec.definition.name} on ${base}`;
    const given = spec.keys.key;
    if (given !== undefined && typeof given !== 'string' && typeof given !== 'function') {
      throw new CashewsConfigError(
        `${where}: key must be a template such as 'user:{id}' or a function (args, req?) => string (got ${typeof given}).`,
      );
    }
    checkCacheName(where, spec.keys.cache);
    const template = typeof given === 'string' ? given : undefined;
    const params = parameterNames(method as AnyFunction);
    const skipArgs = skippedArgs(where, spec, params);
    // Only stored results are versioned: a lock (@Locked) must stay shared by old and new code.
    if (!spec.definition.storesResult && spec.keys.version !== undefined)
      throw versionRefused(`@${spec.definition.name}`);
    const version = spec.definition.storesResult
      ? [keyVersion(where, spec.keys, method as AnyFunction), spec.storedForm].filter(Boolean).join('-')
      : undefined;
    const extraRoots = namedArguments(owner, propertyKey);
    const definition = spec.definition;
    // Everything that names the class, built from a key base: the declaring class's here, an inheriting class's
    // through forClass (the same template, already checked above, compiled again with the other base).
    const build = (keyBase: string, options: O): Layer<O> => {
      let key: Layer['key'];
      if (given === undefined && spec.defaultKey) {
        const fixedKey = keyHead({ prefix: spec.keys.prefix, base: keyBase });
        key = () => fixedKey;
      } else if (typeof given === 'function')
        key = compileKeyFunction({ base: keyBase, prefix: spec.keys.prefix }, given);
      else
        key = compileKey({
          base: keyBase,
          params,
          template,
          prefix: spec.keys.prefix,
          version,
          skipArgs,
          extraRoots,
          allowRequest: true,
          // A placeholder rendering undefined must not silently share a key (see executor.ts).
          strict: true,
        });
      const reads = [key, ...(spec.templates ?? [])].flatMap((template) => templateReads(template));
      return Object.freeze({
        strategy: definition.name,
        run: definition.run,
        definition,
        options,
        base: keyBase,
        key,
        ...(reads.length > 0 && { reads }),
        version,
        hasTemplate: given !== undefined,
        skipsArgs: skipArgs !== undefined,
        prefix: spec.keys.prefix,
        cacheName: spec.keys.cache,
        storesResult: definition.storesResult,
        methods: spec.methods,
        usesRequest: spec.usesRequest === true || (template !== undefined && /\{req[.}:]/.test(template)),
        defaultKey: spec.defaultKey,
        forClass,
      });
    };
    const byClass = new WeakMap<object, Layer<O>>();
    const forClass = (type: ClassType): Layer<O> => {
      if (type === owner || typeof type !== 'function' || type.name === owner.name) return layer;
      let rebased = byClass.get(type);
      if (!rebased) {
        const typeBase = `${type.name}:${String(propertyKey)}`;
        rebased = build(typeBase, spec.optionsFor ? spec.optionsFor(typeBase) : spec.options);
        byClass.set(type, rebased);
      }
      return rebased;
    };
    const layer = build(base, spec.options);
    // A call that does not go through the explorer or the interceptor warns once instead of silently
    // running undecorated.
    const previous = descriptor.value as (...args: unknown[]) => unknown;
    const guard = guardMethod(owner, propertyKey, previous, spec.definition.name);
    descriptor.value = guard as typeof descriptor.value;
    // TypeScript defines the property from the descriptor afterwards; a decorator applied by hand does not.
    const own = Object.getOwnPropertyDescriptor(target, propertyKey);
    if (guard !== previous && own?.value === previous)
      Object.defineProperty(target, propertyKey, { ...own, value: guard });
    addLayer(guard, layer as Layer, spec.innermost === true);
    attachRouteInterceptor(guard);
  };
}

/**
 * Puts {@link CashewsRouteInterceptor} first in the method's interceptor metadata (once), as `@UseInterceptors`
 * would: a decorated handler runs its strategies with no global interceptor, whatever other interceptors the
 * method has (those run inside it, as they did inside the global one).
 */
function attachRouteInterceptor(method: object): void {
  const current = (Reflect.getMetadata(INTERCEPTORS_METADATA, method) as unknown[] | undefined) ?? [];
  if (current.includes(CashewsRouteInterceptor)) return;
  Reflect.defineMetadata(INTERCEPTORS_METADATA, [CashewsRouteInterceptor, ...current], method);
}
