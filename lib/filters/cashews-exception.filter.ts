import { Catch, HttpStatus, Inject, Injectable, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { throwError, type Observable } from 'rxjs';
import {
  CacheTimeoutError,
  CircuitOpenError,
  LockedError,
  PerfDegradationError,
  RateLimitError,
  type CashewsError,
} from '../errors.js';

/** The errors {@link CashewsExceptionFilter} maps. */
export type MappedCashewsError =
  RateLimitError | CircuitOpenError | PerfDegradationError | LockedError | CacheTimeoutError;

/**
 * The one place where the package's errors become HTTP responses, registered globally by `CashewsModule`:
 *
 * | error | status | headers |
 * | --- | --- | --- |
 * | `RateLimitError` | 429 | `Retry-After`, `X-RateLimit-Limit`, `X-RateLimit-Remaining: 0`, `X-RateLimit-Reset` |
 * | `CircuitOpenError`, `PerfDegradationError` | 503 | `Retry-After` |
 * | `LockedError` | 409 | — |
 * | `CacheTimeoutError` (`@Cache` `hardTimeout`) | 504 | — |
 *
 * `Retry-After` and `X-RateLimit-Reset` are whole seconds. The body is Nest's usual
 * `{ statusCode, error, message }`. Outside HTTP (RPC, GraphQL) the errors pass through unchanged.
 *
 * To change the mapping, extend this class, override {@link status}, {@link headers} or {@link body}, and
 * register the subclass with `app.useGlobalFilters(new MyFilter(app.get(HttpAdapterHost)))` (filters
 * registered that way take precedence over module-registered ones), or with `@UseFilters()` on a controller.
 * @example
 * ```ts
 * import { HttpAdapterHost } from '@nestjs/core';
 *
 * class ConflictAsTeapotFilter extends CashewsExceptionFilter {
 *   protected override status(error: MappedCashewsError): number {
 *     return error instanceof LockedError ? 418 : super.status(error);
 *   }
 * }
 * app.useGlobalFilters(new ConflictAsTeapotFilter(app.get(HttpAdapterHost)));
 * ```
 */
@Catch(RateLimitError, CircuitOpenError, PerfDegradationError, LockedError, CacheTimeoutError)
@Injectable()
export class CashewsExceptionFilter implements ExceptionFilter<MappedCashewsError> {
  constructor(@Inject(HttpAdapterHost) protected readonly adapterHost: HttpAdapterHost) {}

  /**
   * Whether `error` is one this filter maps. A catch-all filter of the application (`@Catch()`, registered with
   * `useGlobalFilters`) takes precedence over this one and would answer these errors with a 500, since they are no
   * `HttpException`: it can hand them on instead.
   * @example
   * ```ts
   * import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
   * import { HttpAdapterHost } from '@nestjs/core';
   *
   * class AllExceptionsFilter implements ExceptionFilter {
   *   private readonly cashews: CashewsExceptionFilter;
   *   constructor(adapterHost: HttpAdapterHost) {
   *     this.cashews = new CashewsExceptionFilter(adapterHost);
   *   }
   *   catch(exception: unknown, host: ArgumentsHost): unknown {
   *     if (CashewsExceptionFilter.handles(exception)) return this.cashews.catch(exception, host);
   *     return undefined; // the application's own mapping
   *   }
   * }
   * Catch()(AllExceptionsFilter); // as the decorator on the class would
   * app.useGlobalFilters(new AllExceptionsFilter(app.get(HttpAdapterHost)));
   * ```
   */
  static handles(error: unknown): error is MappedCashewsError {
    return (
      error instanceof RateLimitError ||
      error instanceof CircuitOpenError ||
      error instanceof PerfDegradationError ||
      error instanceof LockedError ||
      error instanceof CacheTimeoutError
    );
  }

  catch(error: MappedCashewsError, host: ArgumentsHost): unknown {
    const type = host.getType<string>();
    if (type === 'rpc') return throwError(() => error) as Observable<never>;
    if (type !== 'http') return error;
    const adapter = this.adapterHost.httpAdapter;
    const response: unknown = host.switchToHttp().getResponse();
    const status = this.status(error);
    for (const [name, value] of Object.entries(this.headers(error))) adapter.setHeader(response, name, value);
    adapter.reply(response, this.body(error, status), status);
    return undefined;
  }

  /** HTTP status of an error. */
  protected status(error: MappedCashewsError): number {
    if (error instanceof RateLimitError) return HttpStatus.TOO_MANY_REQUESTS;
    if (error instanceof LockedError) return HttpStatus.CONFLICT;
    if (error instanceof CacheTimeoutError) return HttpStatus.GATEWAY_TIMEOUT;
    return HttpStatus.SERVICE_UNAVAILABLE;
  }

  /** Response headers of an error. */
  protected headers(error: MappedCashewsError): Record<string, string> {
    if (error instanceof LockedError || error instanceof CacheTimeoutError) return {};
    const seconds = String(Math.max(1, Math.ceil(error.retryAfter / 1000)));
    if (!(error instanceof RateLimitError)) return { 'Retry-After': seconds };
    return {
      'Retry-After': seconds,
      'X-RateLimit-Limit': String(error.limit),
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': seconds,
    };
  }

  /** Response body of an error. */
  protected body(error: CashewsError, status: number): unknown {
    return { statusCode: status, error: error.name, message: error.message };
  }
}
