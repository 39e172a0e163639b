import { Injectable, type NestMiddleware } from '@nestjs/common';
import { CacheDetect, type DetectScope } from './cache-detect.js';
import { fromCacheHeaders } from './cache-headers.js';

const SCOPE = Symbol('cashews.fromCache');

/**
 * Opens a detection scope for each request and asks for the `X-From-Cache*` headers on its response (the
 * module option `detectHeaders: true` does the same for every route). Cached calls anywhere below the
 * handler are recorded, however deep in services. The headers are written by the library's interceptor when the
 * handler's result is produced, before the body is sent, on Express and Fastify alike; on a route that no
 * interceptor of the library wraps (no decorator on the handler and no global interceptor), the middleware writes
 * them itself as the response head goes out (successful responses only).
 *
 * @example
 * ```ts
 * import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
 *
 * ;@Module({ imports: [CashewsModule.forRoot('mem://')] })
 * export class AppModule implements NestModule {
 *   configure(consumer: MiddlewareConsumer): void {
 *     consumer.apply(FromCacheMiddleware).forRoutes('products');
 *   }
 * }
 * ```
 */
@Injectable()
export class FromCacheMiddleware implements NestMiddleware {
  use(req: object, res: unknown, next: (error?: unknown) => void): void {
    const scope = CacheDetect.scope();
    markRequestScope(req, scope);
    writeOnHead(res, scope);
    CacheDetect.within(scope, () => next());
  }
}

/** Leaves a request's middleware scope on the request, where {@link middlewareScope} finds it. */
export function markRequestScope(req: object, scope: DetectScope): void {
  Object.defineProperty(req, SCOPE, { value: scope, configurable: true });
}

interface NodeResponse {
  statusCode?: number;
  headersSent?: boolean;
  writeHead(...args: unknown[]): unknown;
  getHeader(name: string): unknown;
  setHeader(name: string, value: string): unknown;
}

/**
 * Adds the `X-From-Cache*` headers to the response head unless the interceptor already did: Node sends the head
 * through `writeHead` (called by `end()` too), on Express's response and Fastify's raw one alike. An error response
 * is left alone: only the route (its layers, or an interceptor) can tell an error served from cache from a fresh one.
 */
export function writeOnHead(res: unknown, scope: DetectScope): void {
  const response = (res as { raw?: unknown }).raw ?? res;
  if (!response || typeof (response as NodeResponse).writeHead !== 'function') return;
  const node = response as NodeResponse;
  const writeHead = node.writeHead;
  node.writeHead = function (this: NodeResponse, ...args: unknown[]) {
    const status = typeof args[0] === 'number' ? args[0] : this.statusCode;
    try {
      if (
        scope.hits.length &&
        (status ?? 200) < 400 &&
        !this.headersSent &&
        this.getHeader('X-From-Cache') === undefined
      ) {
        for (const [name, value] of Object.entries(fromCacheHeaders(scope.hits))) this.setHeader(name, value);
      }
    } catch {
      // Informational headers never fail the response they describe.
    }
    return writeHead.apply(this, args);
  };
}

/** The scope {@link FromCacheMiddleware} opened for this request (Express request, or Fastify's `req.raw`). */
export function middlewareScope(req: object): DetectScope | undefined {
  const own = (req as { [SCOPE]?: DetectScope })[SCOPE];
  if (own) return own;
  const raw = (req as { raw?: unknown }).raw;
  return typeof raw === 'object' && raw !== null ? (raw as { [SCOPE]?: DetectScope })[SCOPE] : undefined;
}
