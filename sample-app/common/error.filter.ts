import { Catch, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { CacheBackendError } from '../../lib/index.js';
import { ProductNotFoundError, UpstreamError } from '../upstream/upstream.errors.js';

type JsonResponse = { status(code: number): { json(body: unknown): void } };

/**
 * Maps the domain errors to HTTP statuses. Without it Nest would answer 500 for all of them, hiding the
 * difference between "upstream down" (503, retry later) and "no such product" (404). The library's own
 * errors (LockedError 409, RateLimitError 429, CircuitOpenError 503, ...) are mapped by the filter that
 * CashewsModule registers, so they are not repeated here.
 */
@Catch(UpstreamError, ProductNotFoundError, CacheBackendError)
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(ErrorFilter.name);

  catch(error: Error, host: ArgumentsHost): void {
    const status = error instanceof ProductNotFoundError ? HttpStatus.NOT_FOUND : HttpStatus.SERVICE_UNAVAILABLE;
    if (status === HttpStatus.SERVICE_UNAVAILABLE) this.logger.warn(error.message);
    host
      .switchToHttp()
      .getResponse<JsonResponse>()
      .status(status)
      .json({ statusCode: status, error: error.name, message: error.message });
  }
}
