import type { DetectScope } from './cache-detect.js';

/** Where {@link CacheHeadersInterceptor} leaves a request's scope on its execution context (one per call). */
const ROUTE_SCOPE = Symbol('cashews.routeScope');

type Marked = { [ROUTE_SCOPE]?: DetectScope };

/**
 * Hands a request's detection scope to the route's own layers through the execution context the interceptors share:
 * when nothing else may report (see `detectContext.needed`), the scope is never entered in the async context, and
 * this is how the strategies interceptor finds it.
 */
export function setRouteScope(context: object, scope: DetectScope): void {
  (context as Marked)[ROUTE_SCOPE] = scope;
}

/** The scope {@link setRouteScope} left on `context`, if any. */
export function routeScope(context: object): DetectScope | undefined {
  return (context as Marked)[ROUTE_SCOPE];
}
