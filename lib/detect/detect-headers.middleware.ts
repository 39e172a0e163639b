import { Injectable, type NestMiddleware } from '@nestjs/common';
import { CacheDetect, detectContext } from './cache-detect.js';
import { markRequestScope, writeOnHead } from './from-cache.middleware.js';

/**
 * What `detectHeaders: true` applies to every route when no global interceptor runs: a request
 * scope that hits anywhere below the handler report to (decorated services an undecorated handler calls), described
 * in the `X-From-Cache*` headers as the response head goes out (successful responses). A decorated route describes
 * its own hits where they are known (its layers, or the interceptor its decorators attach); this covers the rest.
 *
 * Unlike {@link FromCacheMiddleware}, it opens no scope until something other than a route's own layers may report
 * (a decorated provider, code using `CacheDetect`, see `detectContext.needed`): entering AsyncLocalStorage costs
 * every promise of the process from then on, and a route's layers are handed their scope directly.
 */
@Injectable()
export class DetectHeadersMiddleware implements NestMiddleware {
  use(req: object, res: unknown, next: (error?: unknown) => void): void {
    if (!detectContext.needed()) {
      next();
      return;
    }
    const scope = CacheDetect.scope();
    markRequestScope(req, scope);
    writeOnHead(res, scope);
    detectContext.enter(scope, () => next());
  }
}
