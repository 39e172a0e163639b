import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { CacheHeadersInterceptor } from '../detect/cache-headers.interceptor.js';
import { CashewsInterceptor } from './cashews.interceptor.js';

/**
 * The one interceptor `CashewsModule` registers globally: the detection headers around the strategies, as
 * {@link CacheHeadersInterceptor} then {@link CashewsInterceptor} would run mounted together, but as a single step
 * of Nest's interceptor chain. Each step Nest runs costs every request of the application (an Observable and a
 * promise hop of its own), decorated or not; each of the two parts steps aside at the cost of a check when the
 * route has nothing for it.
 */
@Injectable()
export class CashewsGlobalInterceptor implements NestInterceptor {
  constructor(
    @Inject(CacheHeadersInterceptor) private readonly headers: CacheHeadersInterceptor,
    @Inject(CashewsInterceptor) private readonly strategies: CashewsInterceptor,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return this.headers.intercept(context, { handle: () => this.strategies.intercept(context, next) });
  }
}
