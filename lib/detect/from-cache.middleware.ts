import { Injectable, type NestMiddleware } from '@nestjs/common';
import { CacheDetect, type DetectScope } from './cache-detect.js';

const SCOPE = Symbol('cashews.fromCache');

/**
 * Opens a detection scope for each request and asks for the `X-From-Cache*` headers on its response (the
 * module option `detectHeaders: true` does the same for every route). Cached calls anywhere below the
 * handler are recorded, however deep in services. The headers themselves are written by the library's
 * interceptor when the handler's result is produced, before the body is sent, on Express and Fastify alike.
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
  use(req: object, _res: unknown, next: (error?: unknown) => void): void {
    const scope = CacheDetect.scope();
    Object.defineProperty(req, SCOPE, { value: scope, configurable: true });
    CacheDetect.within(scope, () => next());
  }
}

/** The scope {@link FromCacheMiddleware} opened for this request (Express request, or Fastify's `req.raw`). */
export function middlewareScope(req: object): DetectScope | undefined {
  const own = (req as { [SCOPE]?: DetectScope })[SCOPE];
  if (own) return own;
  const raw = (req as { raw?: unknown }).raw;
  return typeof raw === 'object' && raw !== null ? (raw as { [SCOPE]?: DetectScope })[SCOPE] : undefined;
}
