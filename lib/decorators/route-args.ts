import type { ExecutionContext } from '@nestjs/common';
import { KeyPlaceholderError } from '../errors.js';
import { argumentRoot, type KeySource } from '../keys/key-template.js';

// Nest's own metadata keys and RouteParamtypes values, stable across Nest 11 (CJS) and 12 (ESM). Deep
// imports of them differ between the two builds, so they are restated here.
export const ROUTE_ARGS_METADATA = '__routeArguments__';
/** In the metadata key of every parameter a `createParamDecorator` decorator binds. */
export const CUSTOM_ROUTE_ARGS_METADATA = '__customRouteArgs__';
const RESPONSE = 1;
const NEXT = 2;
const BODY = 3;
const QUERY = 4;
const PARAM = 5;
const HEADERS = 6;
const HOST = 10;

type RequestLike = {
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
  headers?: Record<string, unknown>;
  /** The parameters of a host-routed controller's host pattern, set by Nest's host filter (`@HostParam`). */
  hosts?: Record<string, unknown>;
};
type Reader = (req: RequestLike) => unknown;

/**
 * What the handler's `@Param`/`@Query`/`@Body`/`@Headers`/`@HostParam` arguments read, taken from the request before
 * pipes.
 */
export interface RouteArgs {
  /** Reader of each handler parameter, by position (`undefined` for parameters not bound to the request). */
  byIndex: Array<Reader | undefined>;
  /**
   * Readers by decorator data, so `{id}` can mean `@Param('id')` whatever the parameter is called: from the request.
   * Without one (an `@Invalidate` naming the route), nothing: the call has no key. Outside HTTP, the argument itself
   * (`@Args('id')`, `@Payload('id')`, `@MessageBody('id')`, which share the type number of `@Body`), when
   * `outsideHttp` says the handler answers there (see `namedArguments` in handler-args.ts).
   */
  byName: Record<string, (source: KeySource) => unknown>;
  /** `@Res()` or `@Next()`: the handler writes the response itself, so its result cannot be cached. */
  usesResponse: boolean;
  /**
   * Parameters bound by a custom decorator (`createParamDecorator`, e.g. `@CurrentUser()`): their factory is called
   * as Nest calls it, `factory(data, context)`, before pipes, at most once per request and only when a key reads it.
   */
  custom?: CustomParam[];
  /**
   * Decorators of parameters a default controller key does not name (it is the route and query string):
   * `'@Body()'`, `'@Headers()'`, a custom decorator. Requests differing only there share a default-keyed entry.
   */
  unkeyed: string[];
}

/** A parameter bound by a `createParamDecorator` decorator, as Nest's metadata describes it. */
export interface CustomParam {
  index: number;
  factory: (data: unknown, context: ExecutionContext) => unknown;
  data: unknown;
}

function reader(type: number, data: unknown): Reader | undefined {
  const name = typeof data === 'string' ? data : undefined;
  switch (type) {
    case PARAM:
      return name ? (req) => req.params?.[name] : (req) => req.params;
    case QUERY:
      return name ? (req) => req.query?.[name] : (req) => req.query;
    case BODY:
      return name ? (req) => (req.body as Record<string, unknown> | undefined)?.[name] : (req) => req.body;
    case HEADERS:
      return name ? (req) => req.headers?.[name.toLowerCase()] : (req) => req.headers;
    case HOST:
      return name ? (req) => req.hosts?.[name] : (req) => req.hosts;
    default:
      return undefined;
  }
}

/**
 * The `data` of the request and response parameters a direct route (lib/routes/direct-routes.ts) adds to a handler's
 * route arguments: they are the library's, not the handler's, and are not read as the handler's arguments.
 */
export const DIRECT_ROUTE_PARAM = 'cashews:direct-route';

/**
 * Reads the route-argument metadata Nest's parameter decorators left on a handler (stored on the class). `outsideHttp`
 * tells, at a call without a request, whether the handler answers outside HTTP (its `byName` readers then read the
 * argument).
 */
export function readRouteArgs(
  controller: object,
  method: string | symbol,
  outsideHttp: () => boolean = () => false,
): RouteArgs {
  const meta = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, method) ?? {}) as Record<
    string,
    { index: number; data?: unknown; factory?: unknown }
  >;
  const result: RouteArgs = { byIndex: [], byName: {}, usesResponse: false, unkeyed: [] };
  for (const [id, { index, data, factory }] of Object.entries(meta)) {
    if (data === DIRECT_ROUTE_PARAM) continue;
    if (id.includes(CUSTOM_ROUTE_ARGS_METADATA)) {
      if (typeof factory === 'function') {
        (result.custom ??= []).push({ index, data, factory: factory as CustomParam['factory'] });
      }
      noteUnkeyed(result, 'a custom parameter decorator');
      continue;
    }
    const type = Number(id.split(':')[0]);
    if (type === RESPONSE || type === NEXT) result.usesResponse = true;
    if (type === BODY) noteUnkeyed(result, '@Body()');
    if (type === HEADERS) noteUnkeyed(result, '@Headers()');
    const read = reader(type, data);
    if (!read) continue;
    result.byIndex[index] = read;
    if (typeof data === 'string' && !(data in result.byName)) {
      result.byName[data] = argumentRoot(index, (source) =>
        source.req ? read(source.req as RequestLike) : outsideHttp() ? source.args[index] : undefined,
      );
    }
  }
  return result;
}

function noteUnkeyed(route: RouteArgs, decorator: string): void {
  if (!route.unkeyed.includes(decorator)) route.unkeyed.push(decorator);
}

/**
 * Handler arguments rebuilt from the request, so key templates can name handler parameters. A parameter bound by a
 * custom decorator is read when a key first reads it, by calling its factory with the call's execution context (the
 * interceptor's, or one made for a direct route); once per request. A factory that throws or answers a promise (a
 * key cannot wait for it) gives the call no key: reading that argument throws {@link KeyPlaceholderError}, so the
 * call is handled like a placeholder that rendered `undefined`.
 */
export function argsFromRequest(
  args: RouteArgs,
  req: unknown,
  context?: () => ExecutionContext,
  target = '',
): unknown[] {
  const values = args.byIndex.map((read) => (read ? read(req as RequestLike) : undefined));
  if (!args.custom || !context) return values;
  return withCustomParams(values, args.custom, context, target);
}

/**
 * Puts the parameters bound by custom decorators into `values` (a call's arguments), each read when a key first
 * reads it, by calling its factory with the call's execution context; once per call.
 * @internal
 */
export function withCustomParams(
  values: unknown[],
  custom: readonly CustomParam[],
  context: () => ExecutionContext,
  target: string,
): unknown[] {
  for (const param of custom) {
    if (values.length <= param.index) values.length = param.index + 1;
    let read: (() => unknown) | undefined;
    Object.defineProperty(values, param.index, {
      enumerable: true,
      configurable: true,
      get: () => (read ??= readCustom(param, context, target))(),
    });
  }
  return values;
}

/** Calls a custom parameter's factory once: a function answering its value, or throwing the call's missing key. */
function readCustom(param: CustomParam, context: () => ExecutionContext, target: string): () => unknown {
  let value: unknown;
  let problem: string | undefined;
  try {
    value = param.factory(param.data, context());
    if (typeof (value as { then?: unknown } | null)?.then === 'function') problem = 'returned a promise';
  } catch (error) {
    problem = `threw (${error instanceof Error ? error.message : String(error)})`;
  }
  if (problem === undefined) return () => value;
  const placeholder = String(param.index);
  const error = new KeyPlaceholderError(
    target,
    `custom parameter decorator of argument ${param.index}`,
    placeholder,
    `The custom parameter decorator of argument ${param.index} of ${target} ${problem} while its key was built, so ` +
      `the key cannot tell this call apart from other such calls. Its factory must answer a value at once.`,
  );
  return () => {
    throw error;
  };
}
