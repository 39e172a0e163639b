import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { CacheHeadersInterceptor } from '../detect/cache-headers.interceptor.js';
import { CashewsConfigError } from '../errors.js';
import { CashewsInterceptor } from './cashews.interceptor.js';

/**
 * The interceptor every strategy decorator attaches to the method it decorates (Nest's method-level interceptor
 * metadata, as `@UseInterceptors` would): a decorated controller handler, resolver or message handler runs its
 * strategies without any global interceptor, so routes without decorators pay nothing for the module. It runs the
 * detection headers around the strategies, like the global interceptor; when that one runs too (an HTTP option,
 * `globalInterceptors: true`), the work is done once (each part marks the call).
 *
 * Its only dependency, `ModuleRef`, resolves in every module; the library's interceptors are found in the
 * application on first use.
 */
@Injectable()
export class CashewsRouteInterceptor implements NestInterceptor {
  private parts?: { headers: CacheHeadersInterceptor; strategies: CashewsInterceptor };

  constructor(@Inject(ModuleRef) private readonly moduleRef: ModuleRef) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const { headers, strategies } = (this.parts ??= this.resolve(context));
    return headers.intercept(context, { handle: () => strategies.intercept(context, next) });
  }

  private resolve(context: ExecutionContext): { headers: CacheHeadersInterceptor; strategies: CashewsInterceptor } {
    try {
      return {
        headers: this.moduleRef.get(CacheHeadersInterceptor, { strict: false }),
        strategies: this.moduleRef.get(CashewsInterceptor, { strict: false }),
      };
    } catch (error) {
      const target = `${context.getClass().name}.${context.getHandler().name}`;
      throw new CashewsConfigError(
        `${target} has a nestjs-cashews decorator, but the application does not import CashewsModule.forRoot(...) ` +
          `(or forRootAsync): import it in the root module.`,
        { cause: error },
      );
    }
  }
}
