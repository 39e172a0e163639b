import { Inject, Injectable, Logger, RequestMethod, type OnModuleInit } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, LazyModuleLoader, MetadataScanner, ModulesContainer } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import type { Module } from '@nestjs/core/injector/module.js';
import { defer, mergeMap, Observable } from 'rxjs';
import { CacheResolver } from '../cache-resolver.js';
import { attachBloomHandle } from './bloom-handle.js';
import { decorateLazyLoads, injectsLazyModuleLoader } from './lazy-loads.js';
import { providedLazily } from '../loaded-lazily.js';
import {
  markApplied,
  markRequestScoped,
  markRouted,
  noteExplorerCreated,
  noteExplorerRan,
  originalMethod,
} from '../decorators/method-guard.js';
import { hasClassCache } from '../decorators/class-cache.js';
import {
  handlerContextTypes,
  readHandlerArgs,
  requestInKeys,
  unkeyedInDefaultKey,
  unreadableInKeys,
} from '../decorators/handler-args.js';
import { CACHED_METHODS } from '../decorators/http-methods.js';
import { readRouteArgs } from '../decorators/route-args.js';
import { getLayers, layersFor } from '../decorators/strategy-metadata.js';
import { CashewsConfigError } from '../errors.js';
import { detectContext } from '../detect/cache-detect.js';
import { installDirectRoutes, type DirectRouteParts } from '../routes/direct-routes.js';
import type { InvalidateStrategyOptions } from '../strategies/invalidate.strategy.js';
import { prepareExecution, type Invocation, type Layer, type MethodCall } from '../strategies/executor.js';
import type { ClassType as Class } from '../strategies/layer.js';
import { keyHead, type KeySource } from '../keys/key-template.js';

type Method = (...args: unknown[]) => unknown;

/**
 * Wraps decorated methods of ordinary providers with the executor at bootstrap, and those of the modules the
 * application's `LazyModuleLoader` loads later, before `load()` returns them (see `decorateLazyLoads`). Controllers
 * are left to the interceptor (routes are bound before `onModuleInit`), but their layers are validated here too, so
 * a decorator naming a missing cache instance fails at start-up rather than at the first request.
 */
@Injectable()
export class CashewsExplorer implements OnModuleInit {
  private readonly logger = new Logger('Cashews');
  private readonly wrapped = new WeakSet<object>();
  private readonly heads = new KeyHeads();
  private readonly references = new InvalidateReferences();
  /**
   * Transient providers seen so far: a lazily loaded consumer of one loaded before gets a new instance of it, held by
   * the provider's own (already walked) module.
   */
  private readonly transients = new Set<InstanceWrapper>();
  /** Whether the application's loader was wrapped (see `decorateLazyLoads`). */
  private loadsWrapped = false;

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Inject(CacheResolver) private readonly resolver: CacheResolver,
    @Inject(LazyModuleLoader) private readonly loader: LazyModuleLoader,
    @Inject(ModulesContainer) private readonly modules: ModulesContainer,
  ) {
    // Created by a lazy load (a forRoot in a lazily loaded module, refused by its factory): never initialized, so
    // not to be counted as an application waiting for init() by the warnings of later calls.
    if (!providedLazily(modules, CashewsExplorer)) noteExplorerCreated();
  }

  /**
   * Makes the decorated handlers of the application's controllers direct routes where they can be (see
   * `installDirectRoutes`). Called by the core module when Nest configures middleware: every instance exists by
   * then, and no route is bound yet.
   */
  installDirectRoutes(parts: DirectRouteParts): void {
    for (const wrapper of this.discovery.getControllers()) {
      const instance = wrapper.instance as object | undefined;
      const prototype = (wrapper.metatype as { prototype?: object } | null | undefined)?.prototype;
      if (!instance || !prototype || !wrapper.metatype || !wrapper.isDependencyTreeStatic()) continue;
      installDirectRoutes(instance, wrapper.metatype, this.scanner.getAllMethodNames(prototype), parts);
    }
  }

  /**
   * Whether a provider of the application has decorated methods, or may get some later (a provider or controller
   * injects `LazyModuleLoader`, see `injectsLazyModuleLoader`): below a route handler, they are what reports hits to
   * the request's scope (with code calling `CacheDetect.report` itself, which needs `FromCacheMiddleware`).
   */
  hasDecoratedProviders(): boolean {
    const providers = this.discovery.getProviders();
    // The explorer injects the loader itself (to decorate what it loads): only the application's own code counts.
    const holders = [...providers, ...this.discovery.getControllers()].filter(
      (wrapper) => wrapper.metatype !== CashewsExplorer,
    );
    if (injectsLazyModuleLoader(holders)) return true;
    for (const wrapper of providers) {
      const prototype = (wrapper.metatype as { prototype?: object } | null | undefined)?.prototype;
      if (!prototype || typeof wrapper.metatype !== 'function') continue;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        if (getLayers((prototype as Record<string, unknown>)[name])) return true;
      }
    }
    return false;
  }

  onModuleInit(): void {
    noteExplorerRan();
    for (const wrapper of this.discovery.getControllers()) {
      const prototype = (wrapper.metatype as { prototype?: object } | undefined)?.prototype;
      if (!prototype) continue;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const method = (prototype as Record<string, unknown>)[name];
        const declared = getLayers(method);
        // A route's default key holds its path; the method-wide keys of protective decorators do not.
        if (!declared) continue;
        const type = wrapper.metatype as Class;
        this.checkContextKeys(type, name, method, declared);
        for (const layer of layersFor(declared, type)) if (layer.defaultKey) this.heads.add(layer, type, wrapper);
        this.references.add(type, name, declared);
        for (const layer of declared) {
          if (
            layer.skipsArgs &&
            !layer.hasTemplate &&
            Reflect.getMetadata(PATH_METADATA, method as object) !== undefined
          ) {
            throw new CashewsConfigError(
              `${(wrapper.metatype as { name: string }).name}.${name}: skipArgs applies to the default keys of ` +
                "provider methods; a route handler's default key is its route and query string. Give it a key " +
                'template or key function instead.',
            );
          }
          this.resolver.cacheFor(layer);
        }
        this.warnNeverStored(type, name, method, declared);
        markRouted(method);
      }
    }
    this.decorateProviders(this.discovery.getProviders());
    // Once: a testing module initialized and then its application run this again, over the same container.
    if (this.loadsWrapped) return;
    this.loadsWrapped = true;
    decorateLazyLoads(this.loader, this.modules, (loaded) => this.decorateLoaded(loaded));
  }

  /**
   * Decorates the providers of modules `LazyModuleLoader` just loaded, as {@link onModuleInit} does at start-up, and
   * the instances their classes got of transient providers loaded before.
   * @throws CashewsConfigError as at start-up: the `load()` rejects with it.
   */
  private decorateLoaded(loaded: readonly Module[]): void {
    for (const wrapper of this.transients) for (const instance of instancesOf(wrapper)) this.applyTo(wrapper, instance);
    this.decorateProviders(loaded.flatMap((module) => [...module.providers.values()]));
  }

  private decorateProviders(wrappers: Iterable<InstanceWrapper>): void {
    for (const wrapper of wrappers) {
      if (!wrapper.isDependencyTreeStatic()) this.checkScoped(wrapper);
      if (wrapper.isTransient) this.transients.add(wrapper);
      for (const instance of instancesOf(wrapper)) this.applyTo(wrapper, instance);
    }
    for (const warning of this.references.missed()) this.logger.warn(warning);
  }

  /**
   * Wraps the decorated methods of one provider instance (see {@link instancesOf}): every method or none, so an
   * instance refused here is left as it was.
   */
  private applyTo(wrapper: InstanceWrapper, instance: Record<string, unknown> | undefined): void {
    if (!instance || typeof instance !== 'object' || this.wrapped.has(instance)) return;
    const prototype = Object.getPrototypeOf(instance) as object | null;
    if (!prototype) return;
    if (hasClassCache(instance.constructor)) {
      throw new CashewsConfigError(
        `@Cache on the class ${instance.constructor.name}: a class-level @Cache applies to controllers ` +
          '(their GET/HEAD handlers); on a provider, decorate each method to cache with @Cache({ ... }).',
      );
    }
    const decorated: Array<[string, Method]> = [];
    for (const name of this.scanner.getAllMethodNames(prototype)) {
      const layers = getLayers((prototype as Record<string, unknown>)[name]);
      if (!layers) continue;
      if (!wrapper.isDependencyTreeStatic()) {
        markRequestScoped(instance.constructor);
        this.logger.warn(
          `${wrapper.name as string}.${name} has cache decorators but is request-scoped (or depends on a ` +
            'request-scoped provider); its decorators are not applied. Move the method to a singleton provider.',
        );
        continue;
      }
      const type = instance.constructor as Class;
      this.checkContextKeys(type, name, (prototype as Record<string, unknown>)[name], layers);
      const own = layersFor(layers, type);
      for (const layer of own) this.heads.add(layer, type, wrapper);
      this.references.add(type, name, layers);
      decorated.push([name, this.wrap(instance, name, own)]);
    }
    if (!decorated.length) return;
    // Per name, what its wrapper calls (as wrap reads it) and the wrapper: a reference to the guard taken before now
    // runs it, and a guard reached under a name not decorated here warns.
    const calls = new Map<string, { calls: Method; wrapper: Method }>();
    for (const [name, method] of decorated) {
      calls.set(name, { calls: originalMethod(instance[name]) as Method, wrapper: method });
      instance[name] = method;
    }
    this.wrapped.add(instance);
    markApplied(instance, calls);
  }

  /**
   * Says once, at bootstrap, when a controller method's decorators can never store its result: a method that is no
   * route nor message handler (the interceptor only runs those), a route answering another HTTP method than the layer caches (GET and
   * HEAD unless `methods` says otherwise), or a handler writing the response itself (`@Res()`, `@Next()`).
   */
  private warnNeverStored(controller: Class, name: string, method: unknown, layers: readonly Layer[]): void {
    const target = `${controller.name}.${name}`;
    const decorators = layers.map((layer) => `@${layer.strategy}`).join(', ');
    if (Reflect.getMetadata(PATH_METADATA, method as object) === undefined) {
      // A message or event handler (@MessagePattern) runs through the interceptor too, and stores in any context.
      if (handlerContextTypes(method).length > 0) return;
      this.logger.warn(
        `${target} has ${decorators} but is not a route handler: on a controller, decorators apply to routes only ` +
          '(the interceptor runs them). Move the method to a provider to decorate it.',
      );
      return;
    }
    const storing = layers.filter((layer) => layer.storesResult);
    if (!storing.length) return;
    const route = readRouteArgs(controller, name);
    if (route.usesResponse) {
      this.logger.warn(
        `${target} writes the response itself (@Res() or @Next()), so ${decorators} never stores its result. ` +
          'Return the result instead of sending it.',
      );
      return;
    }
    const byDefaultKey = storing.filter((layer) => !layer.hasTemplate);
    if (byDefaultKey.length && route.unkeyed.length) {
      this.logger.warn(
        `${target} reads ${route.unkeyed.join(', ')}, which its default key (route and query string) does not name: ` +
          `requests differing only there share one entry of ${byDefaultKey.map((l) => `@${l.strategy}`).join(', ')}. ` +
          "Give it a key naming them (key: 'search:{q}' for @Body('q') q, or a key function), or cache in a provider.",
      );
    }
    const verb = RequestMethod[Reflect.getMetadata(METHOD_METADATA, method as object) as number] ?? 'GET';
    if (verb === 'ALL') return;
    for (const layer of storing) {
      const methods = layer.methods ?? CACHED_METHODS;
      if (methods.includes(verb)) continue;
      this.logger.warn(
        `@${layer.strategy} on ${target}, a ${verb} route, never stores: it caches ${methods.join(', ')} ` +
          `responses. Give methods: ['${verb}'] to cache this route.`,
      );
    }
  }

  /**
   * Checks the keys of a handler in each context its routing decorators say it answers in (`@ResolveField()`,
   * `@SubscribeMessage()`...), as the interceptor would at its first call there: refuses templates naming a parameter
   * no key may read (a GraphQL `@Context()`, a WebSocket client) or the request (`{req.…}`), whose every call it
   * would refuse, and says once when a default key leaves out parameters the handler reads (see
   * `unkeyedInDefaultKey`).
   * @throws CashewsConfigError naming the method, the template and the parameter.
   */
  private checkContextKeys(type: Class, name: string, method: unknown, layers: readonly Layer[]): void {
    const target = `${type.name}.${name}`;
    const routed = Reflect.getMetadata(PATH_METADATA, method as object) !== undefined;
    for (const context of handlerContextTypes(method)) {
      const args = readHandlerArgs(type, name, context, method);
      const unreadable = unreadableInKeys(args, layers, target);
      if (unreadable) throw unreadable.error;
      // A handler that is also an HTTP route (a hybrid application) has a request there: its other calls fail.
      const request = routed ? undefined : requestInKeys(args, layers, target);
      if (request) throw request.error;
      const unkeyed = unkeyedInDefaultKey(args, layersFor(layers, type), method);
      if (unkeyed) this.resolver.onLayerProblem(unkeyed.layer, target, 'unkeyed-parameter', unkeyed.problem, 'warn');
    }
  }

  /**
   * Checks the keys of a request-scoped provider's handlers (a resolver or gateway made per request, or depending on
   * a request-scoped provider, as with DataLoader): the interceptor runs them, so their keys are refused at bootstrap
   * as a singleton's (see {@link checkContextKeys}).
   */
  private checkScoped(wrapper: InstanceWrapper): void {
    const type = wrapper.metatype as Class | null | undefined;
    const prototype = (type as { prototype?: object } | null | undefined)?.prototype;
    if (typeof type !== 'function' || !prototype) return;
    for (const name of this.scanner.getAllMethodNames(prototype)) {
      const method = (prototype as Record<string, unknown>)[name];
      const layers = getLayers(method);
      if (layers) this.checkContextKeys(type, name, method, layers);
    }
  }

  /** The decorated method `name` of `instance`: its layers run by the executor around the original. */
  private wrap(instance: Record<string, unknown>, name: string, layers: readonly Layer[]): Method {
    const target = `${instance.constructor.name}.${name}`;
    for (const layer of layers) {
      if (layer.methods !== undefined) {
        throw new CashewsConfigError(
          `${target}: methods applies to controller routes (the HTTP methods whose responses are cached); a ` +
            'provider method has none. Remove it.',
        );
      }
      if (layer.usesRequest) {
        throw new CashewsConfigError(
          `${target}: a {req.…} key placeholder only works on controller handlers; name a method parameter instead.`,
        );
      }
      this.resolver.cacheFor(layer);
    }
    // Called from anywhere below a route handler: its hits reach the request's scope through the async context.
    detectContext.need();
    const original = originalMethod(instance[name]) as Method;
    const shape = returnShape(instance, name, original);
    if (shape === 'value') refuseSync(instance, name, original, target, layers);
    const resolver = this.resolver;
    const logger = this.logger;
    let checked = false;
    const run = (self: unknown, args: unknown[]): unknown => {
      const result = original.apply(self, args);
      if (!checked && shape === 'value') {
        checked = true;
        // Backstop for what refuseSync cannot see (no return type annotation): said once, loudly.
        if (!isThenable(result)) logger.error(syncMessage(target, layers, 'returned a plain value'));
      }
      return result;
    };
    // The method as the chain's last `next`: its own promise when it returns one (an `async` wrapper would add a
    // promise and two microtask hops to every call that runs it, e.g. each allowed call of a rate limit).
    const invoke = (self: unknown, args: unknown[]): Promise<unknown> => {
      try {
        const result = run(self, args);
        return result instanceof Promise ? result : Promise.resolve(result);
      } catch (error) {
        return Promise.reject(error);
      }
    };
    const execute = prepareExecution(layers, resolver);
    const call = (self: unknown, args: unknown[]) => {
      const invocation = new MethodInvocation(target, args, self, invoke);
      return execute(invocation, invocation);
    };
    // Streams keep their type for the caller: an async generator method still returns an async iterable (run when
    // first read, like the generator), an Observable method an Observable (run when subscribed).
    const decorated =
      shape === 'iterable'
        ? function (this: unknown, ...args: unknown[]) {
            return lazyIterable(() => call(this, args));
          }
        : shape === 'observable'
          ? function (this: unknown, ...args: unknown[]) {
              return defer(() => call(this, args)).pipe(mergeMap((result) => result as Observable<unknown>));
            }
          : // The hot path (a plain async method): no extra call between the caller and execute.
            function (this: unknown, ...args: unknown[]) {
              const invocation = new MethodInvocation(target, args, this, invoke);
              return execute(invocation, invocation);
            };
    Object.defineProperty(decorated, 'name', { value: name });
    const bloom = layers.find((layer) => layer.strategy === 'bloom');
    if (bloom) attachBloomHandle(decorated, bloom, target, () => resolver.cacheFor(bloom));
    return decorated;
  }
}

/** Strategies that keep nothing under the call's own key: an invalidation, a transaction. */
const UNKEYED: ReadonlySet<string> = new Set(['invalidate', 'transactional']);

/** What the explorer knows of where a class is registered: the module holding its provider or controller. */
interface Registration {
  readonly host?: { readonly name?: string } | null;
}

/**
 * The default key heads (`prefix:ClassName:method`) of the application's decorated methods, by class: two different
 * classes of one name (two `StatsService`, in two feature modules) would key the same method alike and serve each
 * other's entries, so the second one is refused at bootstrap, naming both. Refused rather than keyed apart (by module
 * name, or by an order of registration): keys must be the same in every process sharing the cache, and a process
 * that loads only one of the two classes (a worker, another app) would key it otherwise. A key template or function
 * is the user's own choice and is never checked; two instances of one class share entries by design.
 */
class KeyHeads {
  private readonly seen = new Map<string, { type: Class; module: string }>();

  add(layer: Layer, type: Class, registration: Registration): void {
    if (layer.hasTemplate || UNKEYED.has(layer.strategy)) return;
    const head = keyHead(layer);
    const module = registration.host?.name ?? 'an unknown module';
    const first = this.seen.get(head);
    if (!first) {
      this.seen.set(head, { type, module });
      return;
    }
    if (first.type === type) return;
    const method = layer.base.replace(':', '.');
    throw new CashewsConfigError(
      `@${layer.strategy} on ${method}: two different classes named ${type.name} (one in ${first.module}, one in ` +
        `${module}) have decorated ${method} methods with the same default key "${head}", so each would be ` +
        "answered with the other's entries. Give one of them a prefix option ({ prefix: 'shop' }) or an explicit " +
        'key, or rename one of the classes.',
    );
  }
}

/**
 * `@Invalidate(BaseRepo.prototype.findOne)` deletes the keys of the class declaring the method, but a class inheriting
 * it keys by its own (`OrdersRepo:findOne:…`): such an invalidation deletes nothing that class cached. Gathered while
 * the explorer walks the decorated methods; {@link missed} says so once per site, naming the `[Class, 'method']`
 * targets to use instead (again only when a lazily loaded module adds inheriting classes).
 */
class InvalidateReferences {
  /** Classes whose decorated methods run (controllers, and providers the explorer wrapped). */
  private readonly classes = new Set<Class>();
  private readonly sites: Array<{ target: string; reference: NonNullable<InvalidateStrategyOptions['reference']> }> =
    [];
  private readonly said = new Set<string>();

  /** A decorated method of `type`, with its layers (an `@Invalidate` naming its target by reference among them). */
  add(type: Class, name: string, layers: readonly Layer[]): void {
    this.classes.add(type);
    for (const layer of layers) {
      const reference = (layer.options as InvalidateStrategyOptions | undefined)?.reference;
      if (layer.strategy === 'invalidate' && reference) this.sites.push({ target: `${type.name}.${name}`, reference });
    }
  }

  /** A warning for each site whose target method other classes inherit and key by their own name, not said before. */
  missed(): string[] {
    const warnings = this.sites.flatMap(({ target, reference }) => {
      const missed = [...this.classes]
        .filter(
          (type) =>
            (type.prototype as Record<string, unknown>)[reference.name] === reference.method &&
            `${type.name}:${reference.name}` !== reference.base,
        )
        .map((type) => type.name);
      if (!missed.length) return [];
      return [
        `@Invalidate on ${target} names ${reference.base.replace(':', '.')} by reference, whose entries are keyed by ` +
          `the class declaring it; ${missed.join(', ')} inherit${missed.length > 1 ? '' : 's'} it and key by their ` +
          `own class, so their entries are not deleted. Name each: ` +
          missed.map((type) => `@Invalidate([${type}, '${reference.name}'])`).join(', ') +
          '.',
      ];
    });
    const fresh = warnings.filter((warning) => !this.said.has(warning));
    for (const warning of fresh) this.said.add(warning);
    return fresh;
  }
}

/**
 * The instances of a provider whose methods are wrapped: its one instance, or for a transient provider
 * (`Scope.TRANSIENT`) the instance made for each class that injects it (only its unused template was wrapped
 * before, so every consumer's instance ran its methods undecorated, with a warning blaming the registration).
 */
function instancesOf(wrapper: InstanceWrapper): Array<Record<string, unknown> | undefined> {
  if (!wrapper.isTransient) return [wrapper.instance as Record<string, unknown> | undefined];
  const made = wrapper.getStaticTransientInstances().map((per) => per?.instance as Record<string, unknown> | undefined);
  return [wrapper.instance as Record<string, unknown> | undefined, ...made];
}

/**
 * One call of a provider method: its own key source and the method to run (one object per call instead of three: a
 * hit runs nothing, and a closure made for the method on every call cost up to a tenth of a memory hit).
 */
class MethodInvocation implements Invocation, KeySource, MethodCall {
  readonly source: KeySource = this;

  constructor(
    readonly target: string,
    readonly args: unknown[],
    private readonly self: unknown,
    private readonly invoke: (self: unknown, args: unknown[]) => Promise<unknown>,
  ) {}

  call(): Promise<unknown> {
    return this.invoke(this.self, this.args);
  }
}

/**
 * What a provider method returns, as far as its wrapper must keep it: an async iterable (an `async *` method), an
 * Observable (declared `Observable<T>`: emitDecoratorMetadata's `design:returntype`), or a value or promise.
 */
function returnShape(instance: object, name: string, original: Method): 'iterable' | 'observable' | 'value' {
  if (Object.prototype.toString.call(original) === '[object AsyncGeneratorFunction]') return 'iterable';
  const declared: unknown = Reflect.getMetadata('design:returntype', Object.getPrototypeOf(instance) as object, name);
  // By shape, not identity: the application may load another copy of rxjs than this package (CommonJS and ESM).
  const prototype =
    typeof declared === 'function' ? (declared as { prototype?: { subscribe?: unknown } }).prototype : undefined;
  return declared === Observable ||
    ((declared as { name?: string } | undefined)?.name === 'Observable' && typeof prototype?.subscribe === 'function')
    ? 'observable'
    : 'value';
}

/** An async iterable that runs `start` when first read and yields what the iterable it resolves to yields. */
function lazyIterable(start: () => Promise<unknown>): AsyncIterable<unknown> {
  return (async function* () {
    yield* (await start()) as AsyncIterable<unknown>;
  })();
}

function isThenable(value: unknown): boolean {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function syncMessage(target: string, layers: readonly Layer[], what: string): string {
  const decorators = [...new Set(layers.map((layer) => layer.strategy))].join(', ');
  return (
    `${target} ${what}, but with its cache decorators (${decorators}) it returns a Promise to its callers ` +
    `(a caller computing sum(1, 2) + 1 would get "[object Promise]1"). Fix: make it async, or declare its ` +
    `return type as Promise<T> and return a promise. (Controller handlers may stay synchronous.)`
  );
}

/**
 * A provider method that is not `async` and whose declared return type (emitDecoratorMetadata's
 * `design:returntype`) is neither a Promise nor any other thenable would change type under the decorator:
 * refused at bootstrap. Without a return type annotation nothing is declared, and the first call checks.
 */
function refuseSync(instance: object, name: string, original: Method, target: string, layers: readonly Layer[]): void {
  const tag = Object.prototype.toString.call(original);
  if (tag === '[object AsyncFunction]') return;
  const declared: unknown = Reflect.getMetadata('design:returntype', Object.getPrototypeOf(instance) as object, name);
  if (typeof declared !== 'function' || declared === Object) return;
  const prototype = (declared as { prototype?: { then?: unknown } }).prototype;
  if (declared === Promise || typeof prototype?.then === 'function') return;
  throw new CashewsConfigError(syncMessage(target, layers, `is synchronous (declared to return ${declared.name})`));
}
