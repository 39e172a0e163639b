import type { DetectScope } from './cache-detect.js';

/**
 * Where the HTTP side of detection leaves a request's scope on the request (one object per call), or {@link NONE}
 * once it ran without one: one property, so that a request changes shape once.
 */
const ROUTE_SCOPE = Symbol('cashews.routeScope');
const NONE = Symbol('cashews.described');

type Marked = { [ROUTE_SCOPE]?: DetectScope | typeof NONE };

/**
 * Hands a request's detection scope to the route's own layers through the request: when nothing else may report (see
 * `detectContext.needed`), the scope is never entered in the async context, and this is how the strategies find it,
 * whether they run in an interceptor or inside the handler (a direct route, lib/routes/direct-routes.ts). The request,
 * not the execution context, carries it: the handler does not see the execution context.
 */
export function setRouteScope(req: object, scope: DetectScope): void {
  (req as Marked)[ROUTE_SCOPE] = scope;
}

/** The scope {@link setRouteScope} left on `req`, if any. */
export function routeScope(req: object): DetectScope | undefined {
  const scope = (req as Marked)[ROUTE_SCOPE];
  return scope === NONE ? undefined : scope;
}

/** Notes that the request's detection side ran (an interceptor mounted globally and per route runs it once). */
export function markDescribed(req: object): void {
  (req as Marked)[ROUTE_SCOPE] ??= NONE;
}

/** Whether {@link markDescribed} (or {@link setRouteScope}) was called for `req`. */
export function isDescribed(req: object): boolean {
  return (req as Marked)[ROUTE_SCOPE] !== undefined;
}
