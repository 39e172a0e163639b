import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { CacheDetect, type CacheHit } from '../../lib/index.js';

type HeaderResponse = { setHeader(name: string, value: string): void; headersSent?: boolean };

/**
 * Adds an `X-Cache` header to every response: `MISS`, or what answered it, e.g.
 * `HIT cache product:1 ttl=287s` or `STALE failover ProductsService:price:1 (UpstreamError)`. It runs the
 * request inside a `CacheDetect` scope, which is what makes strategies report what they served.
 * Only GET/HEAD responses get the header: nothing else is read from cache.
 */
@Injectable()
export class CacheHeaderInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    if (!['GET', 'HEAD'].includes(http.getRequest<{ method: string }>().method)) return next.handle();
    const response = http.getResponse<HeaderResponse>();
    return from(
      CacheDetect.run(() => lastValueFrom(next.handle(), { defaultValue: undefined })).then(({ result, hits }) => {
        if (!response.headersSent) response.setHeader('X-Cache', hits.length ? hits.map(describe).join(', ') : 'MISS');
        return result;
      }),
    );
  }
}

function describe(hit: CacheHit): string {
  const ttl = hit.ttl !== undefined && hit.ttl >= 0 ? ` ttl=${Math.round(hit.ttl / 1000)}s` : '';
  const cause = hit.exception ? ` (${hit.exception})` : '';
  return `${hit.stale ? 'STALE' : 'HIT'} ${hit.strategy} ${hit.key}${ttl}${cause}`;
}
