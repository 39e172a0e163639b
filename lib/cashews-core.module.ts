import { Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { CacheResolver } from './cache-resolver.js';
import { CacheHeadersInterceptor } from './detect/cache-headers.interceptor.js';
import { CashewsExplorer } from './explorer/cashews.explorer.js';
import { CashewsExceptionFilter } from './filters/cashews-exception.filter.js';
import { CashewsInterceptor } from './interceptors/cashews.interceptor.js';
import { CashewsStatsRoutes } from './stats/stats-routes.js';

/**
 * The decorator machinery, registered once however many cache instances `forRoot` creates: every
 * `forRoot` imports this static module, and Nest instantiates a static module only once.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    CacheResolver,
    CashewsExplorer,
    // Metrics and the stats page, when a forRoot asks for them (`metrics`, `dashboard`).
    CashewsStatsRoutes,
    // Detection headers, Cache-Control, Clear-Site-Data and ETag; registered first so it wraps the
    // strategy interceptor and sees what controller-level decorators served.
    { provide: APP_INTERCEPTOR, useClass: CacheHeadersInterceptor },
    { provide: APP_INTERCEPTOR, useClass: CashewsInterceptor },
    // Maps RateLimitError (429), CircuitOpenError / PerfDegradationError (503) and LockedError (409).
    { provide: APP_FILTER, useClass: CashewsExceptionFilter },
  ],
})
export class CashewsCoreModule {}
