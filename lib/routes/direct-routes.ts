import {
  INTERCEPTORS_METADATA,
  PATH_METADATA,
  REDIRECT_METADATA,
  RENDER_METADATA,
  RESPONSE_PASSTHROUGH_METADATA,
  ROUTE_ARGS_METADATA,
  SSE_METADATA,
} from '@nestjs/common/constants.js';
import type { ExecutionContext } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { isObservable, lastValueFrom, type Observable } from 'rxjs';
import { DIRECT_ROUTE_PARAM, readRouteArgs, type RouteArgs } from '../decorators/route-args.js';
import { getLayers, isLayersKey, layersFor } from '../decorators/strategy-metadata.js';
import { originalMethod } from '../decorators/method-guard.js';
import { describing, type CacheHeadersInterceptor, type RoutePlan } from '../detect/cache-headers.interceptor.js';
import { detectContext } from '../detect/cache-detect.js';
import { isDescribed } from '../detect/route-scope.js';
import { isHostRouted, type CashewsInterceptor, type HttpRoute } from '../interceptors/cashews.interceptor.js';
import { keyContext } from '../keys/key-context.js';
import type { ClassType, Layer } from '../strategies/layer.js';

type Method = (...args: unknown[]) => unknown;

// RouteParamtypes.REQUEST and RESPONSE of @nestjs/common, the same in Nest 11 and 12 (see route-args.ts).
const REQUEST = 0;
const RESPONSE = 1;

/** What a direct route needs of the application: the parts the route interceptor would have run. */
export interface DirectRouteParts {
  readonly strategies: CashewsInterceptor;
  readonly headers: CacheHeadersInterceptor;
  /** The interceptor classes of the library: a controller mounting one of them keeps its routes on interceptors. */
  readonly interceptors: readonly (abstract new (...args: never[]) => unknown)[];
  /** The class every strategy decorator puts in the handler's interceptor metadata. */
  readonly routeInterceptor: abstract new (...args: never[]) => unknown;
}

/**
 * Turns the decorated route handlers of a controller instance into direct routes, where it can: the handler's own
 * function runs its layers, instead of the interceptor its decorators attach. Nest runs a route with interceptors
 * through an Observable chain of its own (a subject, deferred Observables, a scope per interceptor, a listener for
 * the client going away); a route without any runs the handler and sends what it answers. On a cached GET that chain
 * was about a sixth of the request's CPU, the same for every cache behind an interceptor.
 *
 * What changes for the route: nothing that is sent, except where a pipe refuses a request that was cached. Guards run
 * first as before; the key is read from the request before pipes, as before. Pipes of the handler's parameters now
 * run on every call, a hit included, since they run before the handler is called (an interceptor could answer before
 * them).
 *
 * A handler stays on the interceptor when a direct route could not keep its behaviour exactly:
 * - it has interceptors of its own besides the library's (they would move from inside the layers to outside them),
 *   or its controller mounts one of the library's interceptors by hand;
 * - a layer stores no result (a rate limit, lock, circuit, performance guard, invalidation): it must see a request
 *   its pipes refuse;
 * - it writes the response itself (`@Res()`, `@Next()`), renders, redirects or streams server-sent events;
 * - it asks for an ETag (a 304 answer replaces the result, which only an interceptor can do);
 * - its controller is request-scoped (there is no instance to install it on at start-up), or the instance holds
 *   the method as a property of its own.
 *
 * Runs when Nest configures middleware, after every instance exists and before any route is bound, over the method
 * names Nest's own route explorer scans (`MetadataScanner.getAllMethodNames`).
 */
export function installDirectRoutes(
  instance: object,
  type: object,
  methodNames: readonly string[],
  parts: DirectRouteParts,
): void {
  for (const key of methodNames) {
    const handler = (instance as Record<string, unknown>)[key];
    if (typeof handler !== 'function' || Object.prototype.hasOwnProperty.call(instance, key)) continue;
    const declared = getLayers(handler);
    if (!declared) continue;
    // Default keys name the controller, also for a handler it inherits from a base controller.
    const layers = layersFor(declared, type as ClassType);
    const hosts = paramsHosts(instance, type, key);
    const route = readRouteArgs(hosts[0], key);
    if (!canRunDirectly(hosts[0], route, handler, layers, parts)) continue;
    const target = `${(type as { name?: string }).name}.${key}`;
    const at = addRequestParams(hosts, key, handler as Method);
    const direct = directHandler(
      handler as Method,
      type,
      layers,
      { ...route, target, byHost: isHostRouted(type) },
      at,
      parts,
    );
    Object.defineProperty(instance, key, { value: direct, writable: true, configurable: true, enumerable: false });
  }
}

/**
 * The classes Nest may read the handler's route arguments from, the one the handler's parameter decorators wrote to
 * first: the `constructor` of the prototype that holds the method when it is that class's own method (a mixin helper
 * copies `constructor` along), else the class Nest instantiated (NestJS 12); and the instance's `constructor` (NestJS
 * 11). The request parameters are added to each, so that both versions pass them.
 */
function paramsHosts(instance: object, type: object, key: string): object[] {
  const prototype = (type as { prototype?: Record<string, unknown> }).prototype;
  const ctor: unknown = prototype?.constructor;
  const own = (ctor as { prototype?: Record<string, unknown> } | undefined)?.prototype;
  const declaring = typeof ctor === 'function' && own?.[key] === prototype?.[key] ? ctor : type;
  const hosts = [declaring, type, (instance as { constructor: object }).constructor];
  return [...new Set(hosts)];
}

/** Whether a direct route keeps everything the handler did on the interceptor (see {@link installDirectRoutes}). */
function canRunDirectly(
  type: object,
  route: RouteArgs,
  handler: object,
  layers: readonly Layer[],
  parts: DirectRouteParts,
): boolean {
  if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) return false;
  const own = Reflect.getMetadata(INTERCEPTORS_METADATA, handler) as unknown[] | undefined;
  if (own?.length !== 1 || own[0] !== parts.routeInterceptor) return false;
  const mounted = (Reflect.getMetadata(INTERCEPTORS_METADATA, type) as unknown[] | undefined) ?? [];
  if (mounted.some((interceptor) => isLibraryInterceptor(interceptor, parts.interceptors))) return false;
  for (const answersItself of [SSE_METADATA, RENDER_METADATA, REDIRECT_METADATA]) {
    if (Reflect.getMetadata(answersItself, handler) !== undefined) return false;
  }
  if (route.usesResponse) return false;
  // A rate limit, lock, circuit or other layer that stores no result must see a request its pipes refuse (counted,
  // refused, timed): it runs before them only on the interceptor.
  if (!layers.every((layer) => layer.storesResult)) return false;
  return !layers.some((layer) => layer.definition.traits(layer.options).etag === true);
}

function isLibraryInterceptor(interceptor: unknown, library: DirectRouteParts['interceptors']): boolean {
  return library.some((type) =>
    typeof interceptor === 'function'
      ? interceptor === type || (interceptor as { prototype?: unknown }).prototype instanceof type
      : interceptor instanceof type,
  );
}

/** Where the request and response parameters of a direct route are, and how many the handler itself declares. */
interface RequestParams {
  readonly req: number;
  readonly res: number;
}

/**
 * Adds the request and the response to the handler's route arguments, after its own (Nest passes them to the
 * function it routes, which has no other way to see them), and marks the response as passed through: Nest still
 * sends what the handler answers. Stored on each class Nest may read them from (see {@link paramsHosts}), as Nest
 * stores every route argument, at the same positions; a copy of the class's metadata merged with an inherited
 * handler's. Once per class and handler: another application of the same class finds them there.
 */
function addRequestParams(hosts: readonly object[], key: string, handler: Method): RequestParams {
  type Arg = { index: number; data?: unknown; pipes?: unknown[] };
  const argsOf = (host: object) =>
    ({ ...((Reflect.getMetadata(ROUTE_ARGS_METADATA, host, key) ?? {}) as Record<string, Arg>) }) as Record<
      string,
      Arg
    >;
  const existing = Object.entries(argsOf(hosts[0])).filter(([, arg]) => arg.data === DIRECT_ROUTE_PARAM);
  const find = (paramtype: number) => existing.find(([id]) => Number(id.split(':')[0]) === paramtype)?.[1].index;
  let at: RequestParams | undefined;
  const [req, res] = [find(REQUEST), find(RESPONSE)];
  if (req !== undefined && res !== undefined) at = { req, res };
  if (!at) {
    // After every parameter the handler declares: its decorated ones, its arity, and its declared types (which count
    // parameters with defaults, where `length` stops).
    const prototype = (hosts[0] as { prototype?: object }).prototype ?? hosts[0];
    const declared = Reflect.getMetadata('design:paramtypes', prototype, key) as unknown[] | undefined;
    let next = Math.max(originalMethod(handler).length, declared?.length ?? 0);
    for (const host of hosts) for (const arg of Object.values(argsOf(host))) next = Math.max(next, arg.index + 1);
    at = { req: next, res: next + 1 };
  }
  for (const host of hosts) {
    const args = argsOf(host);
    args[`${REQUEST}:${at.req}`] = { index: at.req, data: DIRECT_ROUTE_PARAM, pipes: [] };
    args[`${RESPONSE}:${at.res}`] = { index: at.res, data: DIRECT_ROUTE_PARAM, pipes: [] };
    Reflect.defineMetadata(ROUTE_ARGS_METADATA, args, host, key);
    Reflect.defineMetadata(RESPONSE_PASSTHROUGH_METADATA, true, host, key);
  }
  return at;
}

/**
 * The function Nest routes instead of `handler`: the same metadata (Nest reads the route's guards, status, headers and
 * interceptors from it) without the layers and without the library's interceptor, so that no interceptor runs them
 * a second time; called with the request and response after the handler's own arguments, it runs the layers around
 * the handler as the interceptor did. Called any other way (a test calling the controller), it is the handler.
 */
function directHandler(
  handler: Method,
  type: object,
  layers: readonly Layer[],
  route: HttpRoute,
  at: RequestParams,
  parts: DirectRouteParts,
): Method {
  const method = originalMethod(handler);
  const { strategies, headers } = parts;
  const own = at.req;
  const direct = function (this: unknown, ...args: unknown[]): unknown {
    const req = args[at.req];
    const res = args[at.res] as object;
    if (!isRequestPair(req, res)) return handler.apply(this, args);
    args.length = own;
    const run = (): Promise<unknown> => settled(() => method.apply(this, args));
    // What Nest gives a custom parameter decorator's factory (`createParamDecorator`), the route's function (this
    // one) as its handler: made only if a key reads such a parameter.
    const context = (): ExecutionContext =>
      new ExecutionContextHost(
        [req, res, undefined],
        type as ConstructorParameters<typeof ExecutionContextHost>[1],
        direct,
      );
    const call = (): unknown => {
      const running = strategies.runRoute(route, layers, req, res, run, context);
      return running ? running() : method.apply(this, args);
    };
    const plan = isDescribed(req) ? undefined : headers.describe(req, res, false);
    if (!plan) return call();
    const described = plan.scope ? () => describe(plan, call) : call;
    return plan.values ? keyContext.run(plan.values, described) : described();
  };
  Object.defineProperty(direct, 'name', { value: method.name });
  Object.defineProperty(direct, 'length', { value: method.length });
  for (const key of Reflect.getOwnMetadataKeys(handler)) {
    if (isLayersKey(key)) continue;
    const value: unknown = Reflect.getOwnMetadata(key, handler);
    if (key === INTERCEPTORS_METADATA) {
      Reflect.defineMetadata(
        key,
        (value as unknown[]).filter((i) => i !== parts.routeInterceptor),
        direct,
      );
    } else {
      Reflect.defineMetadata(key, value, direct);
    }
  }
  return direct;
}

/**
 * Whether the values at the request parameters' positions are Nest's request and response of one call: on Express
 * each refers to the other, on Fastify the reply to the request. Anything else (a unit test calling the controller
 * with arguments of its own) calls the handler as written.
 */
function isRequestPair(req: unknown, res: unknown): req is object {
  if (typeof req !== 'object' || req === null || typeof res !== 'object' || res === null) return false;
  return (req as { res?: unknown }).res === res || (res as { request?: unknown }).request === req;
}

/**
 * The handler's answer as the layers wrap it (the interceptor's `lastValueFrom(next.handle())`): its promise as it
 * is, an Observable's last value, anything else resolved; a throw is a rejection.
 */
function settled(call: () => unknown): Promise<unknown> {
  try {
    const result = call();
    if (result instanceof Promise) return result;
    if (isObservable(result)) return lastValueFrom(result, { defaultValue: undefined });
    return Promise.resolve(result);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** `call` in the plan's scope, its answer (or error) described on the response as the headers interceptor does. */
function describe(plan: RoutePlan, call: () => unknown): unknown {
  let result: unknown;
  try {
    result = plan.enter ? detectContext.enter(plan.enter, call) : call();
  } catch (error) {
    plan.failed(error);
    throw error;
  }
  if (isObservable(result))
    return describing(() => result as Observable<unknown>, plan.respond, plan.failed, plan.enter);
  return Promise.resolve(result).then(plan.respond, (error: unknown) => {
    plan.failed(error);
    throw error;
  });
}
