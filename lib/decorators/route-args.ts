import type { KeySource } from '../keys/key-template.js';

// Nest's own metadata key and RouteParamtypes values, stable across Nest 11 (CJS) and 12 (ESM). Deep
// imports of them differ between the two builds, so they are restated here.
const ROUTE_ARGS_METADATA = '__routeArguments__';
const RESPONSE = 1;
const NEXT = 2;
const BODY = 3;
const QUERY = 4;
const PARAM = 5;
const HEADERS = 6;

type RequestLike = {
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
  headers?: Record<string, unknown>;
};
type Reader = (req: RequestLike) => unknown;

/** What the handler's `@Param`/`@Query`/`@Body`/`@Headers` arguments read, taken from the request before pipes. */
export interface RouteArgs {
  /** Reader of each handler parameter, by position (`undefined` for parameters not bound to the request). */
  byIndex: Array<Reader | undefined>;
  /** Readers by decorator data, so `{id}` can mean `@Param('id')` whatever the parameter is called. */
  byName: Record<string, (source: KeySource) => unknown>;
  /** `@Res()` or `@Next()`: the handler writes the response itself, so its result cannot be cached. */
  usesResponse: boolean;
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
    default:
      return undefined;
  }
}

/**
 * The `data` of the request and response parameters a direct route (lib/routes/direct-routes.ts) adds to a handler's
 * route arguments: they are the library's, not the handler's, and are not read as the handler's arguments.
 */
export const DIRECT_ROUTE_PARAM = 'cashews:direct-route';

/** Reads the route-argument metadata Nest's parameter decorators left on a handler (stored on the class). */
export function readRouteArgs(controller: object, method: string | symbol): RouteArgs {
  const meta = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, method) ?? {}) as Record<
    string,
    { index: number; data?: unknown }
  >;
  const result: RouteArgs = { byIndex: [], byName: {}, usesResponse: false };
  for (const [id, { index, data }] of Object.entries(meta)) {
    if (data === DIRECT_ROUTE_PARAM) continue;
    const type = Number(id.split(':')[0]);
    if (type === RESPONSE || type === NEXT) result.usesResponse = true;
    const read = reader(type, data);
    if (!read) continue;
    result.byIndex[index] = read;
    if (typeof data === 'string' && !(data in result.byName)) {
      result.byName[data] = (source) => (source.req ? read(source.req as RequestLike) : undefined);
    }
  }
  return result;
}

/** Handler arguments rebuilt from the request, so key templates can name handler parameters. */
export function argsFromRequest(args: RouteArgs, req: unknown): unknown[] {
  return args.byIndex.map((read) => (read ? read(req as RequestLike) : undefined));
}
