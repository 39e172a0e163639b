import {
  Inject,
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Observable, type Observer } from 'rxjs';
import { CashewsRegistry } from '../cashews.registry.js';
import { getLayers } from '../decorators/strategy-metadata.js';
import { BurstLogger } from '../logging/burst-logger.js';
import { isErrorFromCache } from '../strategies/cached-errors.js';
import { CacheDetect, detectContext, type CacheHit, type DetectScope } from './cache-detect.js';
import { cacheControlHeaders, etagMatches, etagOf, fromCacheHeaders } from './cache-headers.js';
import { middlewareScope } from './from-cache.middleware.js';
import type { HttpFeatures, KeyContextRequest } from './http-options.js';
import { parseDirectives } from './request-directives.js';
import { isDescribed, markDescribed, setRouteScope } from './route-scope.js';
import { keyContext } from '../keys/key-context.js';

type HttpRequest = { method?: string; headers?: Record<string, string | string[] | undefined> };

/**
 * What {@link CacheHeadersInterceptor.describe} asks of one request's handler: run it in the key context `values`
 * (when given), and with a `scope` (when given) inside `enter` in the async context, then pass its result to
 * `respond` (which answers what to send) or its error to `failed` before it goes on.
 */
export interface RoutePlan {
  readonly values?: Readonly<Record<string, unknown>>;
  readonly scope?: DetectScope;
  readonly enter?: DetectScope;
  respond(result: unknown): unknown;
  failed(error: unknown): void;
}

const passThrough = (result: unknown): unknown => result;
const ignore = (): void => undefined;

/**
 * The HTTP side of detection, registered globally by the module and wrapping the strategy interceptor.
 * When the application asked for it (`detectHeaders`, `cacheControl`, `clearSiteData`, a
 * {@link FromCacheMiddleware}, or `@Cache({ etag: true })` on the handler), it runs the handler in a
 * detection scope carrying the request's directives, and writes the headers when the handler's result
 * is produced, before the adapter sends it. Otherwise it steps aside at the cost of one check.
 * @example
 * ```ts
 * // registered by CashewsModule; a controller (with its Controller decorator) whose GET handlers are cached
 * // asks it for an ETag, and gets 304 answers to If-None-Match
 * ;@Cache({ ttl: '1m', etag: true })
 * export class ProductsController {
 *   constructor(private readonly products: ProductsService) {}
 *
 *   ;@Get(':id')
 *   findOne(@Param('id') id: string): Promise<Product> {
 *     return this.products.findOne(id);
 *   }
 * }
 * ```
 */
@Injectable()
export class CacheHeadersInterceptor implements NestInterceptor {
  private features?: HttpFeatures;
  /** Whether a handler asks for an ETag, found once per handler (its layers never change after decoration). */
  private readonly etags = new WeakMap<object, boolean>();
  private readonly headerErrors = new BurstLogger(new Logger('Cashews'));

  constructor(
    @Inject(CashewsRegistry) private readonly registry: CashewsRegistry,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest<object>();
    if (isDescribed(req)) return next.handle();
    const plan = this.describe(req, http.getResponse<object>(), this.etagOf(context.getHandler()));
    if (!plan) return next.handle();
    const { values, scope } = plan;
    const handled = scope
      ? () => describing(() => next.handle(), plan.respond, plan.failed, plan.enter)
      : () => next.handle();
    return values ? withKeyContext(values, handled) : handled();
  }

  /**
   * What the detection side does for one request, for this interceptor and for a direct route (the handler runs it,
   * lib/routes/direct-routes.ts): the key context to run the handler in, and the scope whose hits `respond` (the
   * handler's result) or `failed` (its error) describe on the response; `undefined` when nothing is asked. Marks the
   * request, so that the side runs once however many of the library's interceptors see it.
   * @internal
   */
  describe(request: object, res: object, etag: boolean): RoutePlan | undefined {
    markDescribed(request);
    const req = request as HttpRequest;
    const features = (this.features ??= this.registry.httpFeatures());
    const marked = middlewareScope(req);
    const directives =
      features.cacheControl || features.clearSiteData ? parseDirectives(req.headers ?? {}, features) : undefined;
    const headers = features.detectHeaders || marked !== undefined;
    const values = features.keyContext.length ? requestKeyContext(features.keyContext, req) : undefined;
    if (!headers && !etag && !directives && !features.cacheControl)
      return values ? { values, respond: passThrough, failed: ignore } : undefined;

    // Fastify may run the handler outside the middleware's async context: re-enter it through the request.
    const scope: DetectScope = marked ? CacheDetect.scope(directives, marked) : CacheDetect.scope(directives);
    // The route's own layers are handed the scope; what runs below them finds it in the async context, when anything
    // there may report (a decorated provider, code using CacheDetect).
    setRouteScope(req, scope);
    const describeHits = (): void => {
      const hits = scope.hits;
      if (hits.length) {
        if (headers) this.setHeaders(res, fromCacheHeaders, hits, false);
        // The application's own Cache-Control (`@Header`, set by the handler) is its decision: never overridden.
        if (features.cacheControl && !this.hasCacheControl(res)) {
          // `public` only for a response the route itself served: one its handler built afresh around a cached value
          // may hold what only this caller may see (a per-user page reading a shared cached setting).
          this.setHeaders(res, cacheControlHeaders, hits, features.publicCache && scope.served === true);
        }
      }
    };
    // An error response is described only when the error itself was served from cache (`cacheErrors`): any other
    // error is fresh, whatever else the handler read from the cache.
    const failed = (error: unknown): void => {
      if (isErrorFromCache(error)) describeHits();
    };
    const respond = (result: unknown): unknown => {
      describeHits();
      if (!etag) return result;
      const tag = etagOf(result);
      if (tag === undefined) return result;
      this.setHeaders(res, () => ({ ETag: tag }), scope.hits, false);
      if (etagMatches(req.headers?.['if-none-match'], tag) && ['GET', 'HEAD'].includes(String(req.method))) {
        return new Response(null, { status: 304, headers: { ETag: tag } });
      }
      return result;
    };
    return { values, scope, enter: detectContext.needed() ? scope : undefined, respond, failed };
  }

  private etagOf(handler: object): boolean {
    let etag = this.etags.get(handler);
    if (etag === undefined) {
      etag = (getLayers(handler) ?? []).some((layer) => layer.definition.traits(layer.options).etag === true);
      this.etags.set(handler, etag);
    }
    return etag;
  }

  /** Whether the response carries a `Cache-Control` already; a reading that fails counts as one (nothing is set). */
  private hasCacheControl(res: object): boolean {
    try {
      const adapter = this.adapterHost.httpAdapter as { getHeader?: (res: object, name: string) => unknown };
      const header = adapter.getHeader
        ? adapter.getHeader(res, 'Cache-Control')
        : (res as { getHeader?: (name: string) => unknown }).getHeader?.('Cache-Control');
      return header !== undefined && header !== null && header !== '';
    } catch {
      return true;
    }
  }

  /**
   * Informational headers must never fail the response they describe: building or setting one that throws (a
   * header the adapter refuses, headers already sent) is logged, in bursts, and the response goes out without it.
   */
  private setHeaders(
    res: object,
    build: (hits: readonly CacheHit[], publicCache: boolean) => Record<string, string>,
    hits: readonly CacheHit[],
    publicCache: boolean,
  ): void {
    try {
      const adapter = this.adapterHost.httpAdapter;
      const headers = build(hits, publicCache);
      for (const name of Object.keys(headers)) adapter.setHeader(res, name, headers[name]);
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      this.headerErrors.warn(`Could not set cache headers on a response (sent without them): ${reason}`);
    }
  }
}

/**
 * The handler's Observable (`source()`, called when subscribed, inside `scope` in the async context when given) with
 * each value replaced by `respond(value)`, and `failed(error)` run before an error goes on: what
 * `pipe(map(respond), tap({ error: failed }))` does, in one Observable instead of three (about half a microsecond of
 * every described response).
 */
export function describing(
  source: () => Observable<unknown>,
  respond: (value: unknown) => unknown,
  failed: (error: unknown) => void,
  scope?: DetectScope,
): Observable<unknown> {
  return new Observable<unknown>((subscriber) => {
    const observer: Partial<Observer<unknown>> = {
      next(value) {
        let answer: unknown;
        try {
          answer = respond(value);
        } catch (error) {
          subscriber.error(error);
          return;
        }
        subscriber.next(answer);
      },
      error(error: unknown) {
        try {
          failed(error);
        } catch (thrown) {
          subscriber.error(thrown);
          return;
        }
        subscriber.error(error);
      },
      complete() {
        subscriber.complete();
      },
    };
    return scope ? detectContext.enter(scope, () => source().subscribe(observer)) : source().subscribe(observer);
  });
}

/** The key context of a request: every `keyContext` option's answer, merged in order. */
function requestKeyContext(
  fills: HttpFeatures['keyContext'],
  req: HttpRequest,
): Readonly<Record<string, unknown>> | undefined {
  let values: Record<string, unknown> | undefined;
  for (const fill of fills) {
    const answer = fill(req as unknown as KeyContextRequest);
    if (answer !== undefined && answer !== null) values = { ...values, ...answer };
  }
  return values;
}

/** Subscribes to the handler inside the key context, so the handler and everything it calls see it. */
function withKeyContext(
  values: Readonly<Record<string, unknown>>,
  source: () => Observable<unknown>,
): Observable<unknown> {
  return new Observable((subscriber) => keyContext.run(values, () => source().subscribe(subscriber)));
}
