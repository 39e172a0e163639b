import { Inject, Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR, ApplicationConfig, DiscoveryModule } from '@nestjs/core';
import { CacheResolver } from './cache-resolver.js';
import { CashewsRegistry } from './cashews.registry.js';
import { CacheHeadersInterceptor } from './detect/cache-headers.interceptor.js';
import { CashewsExplorer } from './explorer/cashews.explorer.js';
import { DetectHeadersMiddleware } from './detect/detect-headers.middleware.js';
import { CashewsExceptionFilter } from './filters/cashews-exception.filter.js';
import { CashewsGlobalInterceptor } from './interceptors/cashews-global.interceptor.js';
import { CashewsInterceptor } from './interceptors/cashews.interceptor.js';
import { CashewsRouteInterceptor } from './interceptors/cashews-route.interceptor.js';
import { CashewsStatsRoutes } from './stats/stats-routes.js';

/**
 * The decorator machinery, registered once however many cache instances `forRoot` creates: every
 * `forRoot` imports this static module, and Nest instantiates a static module only once per application.
 * Exported (and re-exported by `forRoot`) so that `@UseInterceptors(CashewsInterceptor)` and
 * `@UseFilters(CashewsExceptionFilter)` on a controller resolve their dependencies.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    // The application's instances, their options and background work; waits for refreshes at shutdown.
    CashewsRegistry,
    CacheResolver,
    CashewsExplorer,
    // Metrics and the stats page, when a forRoot asks for them (`metrics`, `dashboard`).
    CashewsStatsRoutes,
    // What the interceptors attached to decorated methods (CashewsRouteInterceptor) and the global one run.
    CacheHeadersInterceptor,
    CashewsInterceptor,
    // Registered at start-up when a forRootAsync's options need it (see `configure`).
    CashewsGlobalInterceptor,
  ],
  exports: [CashewsRegistry, CacheResolver, CacheHeadersInterceptor, CashewsInterceptor],
})
export class CashewsCoreModule implements NestModule {
  constructor(
    @Inject(CashewsExplorer) private readonly explorer: CashewsExplorer,
    @Inject(CashewsInterceptor) private readonly strategies: CashewsInterceptor,
    @Inject(CacheHeadersInterceptor) private readonly headers: CacheHeadersInterceptor,
    @Inject(CashewsRegistry) private readonly registry: CashewsRegistry,
    @Inject(CashewsGlobalInterceptor) private readonly globalInterceptor: CashewsGlobalInterceptor,
    // Nest gives every module its application's config (the list `app.useGlobalInterceptors` adds to).
    @Inject(ApplicationConfig) private readonly appConfig: ApplicationConfig,
  ) {}

  /**
   * Nest configures middleware after creating every instance and before binding any route: the moment decorated
   * handlers can become direct routes (lib/routes/direct-routes.ts). `detectHeaders` without the global interceptor
   * applies {@link DetectHeadersMiddleware} to every route.
   */
  configure(consumer: MiddlewareConsumer): void {
    // A forRootAsync's options are known only now, after the module's imports were fixed: when they ask for an option
    // every route needs the global interceptor for, it is added here, before any route is bound (Nest reads the
    // global interceptors when it binds a route), after those the application registered itself.
    if (this.registry.registersInterceptorLate()) this.appConfig.addGlobalInterceptor(this.globalInterceptor);
    const everyRoute = this.registry.everyRoute();
    // One middleware for every path ('*', which Nest 11 and 12 mount once): one per controller route would be
    // matched against every request. Only when decorated providers exist: otherwise a route's hits are its own
    // layers', which its route describes, and the middleware would cost every request of the application.
    if (
      everyRoute === 'middleware' &&
      this.registry.httpFeatures().detectHeaders &&
      this.explorer.hasDecoratedProviders()
    ) {
      consumer.apply(DetectHeadersMiddleware).forRoutes('{*path}');
    }
    // The global interceptor runs a decorated handler's layers outside the controller's interceptors; inside the
    // handler they would run inside them. It pays for the interceptor chain on every route anyway.
    if (everyRoute === 'interceptor' || !this.registry.directRoutes()) return;
    this.explorer.installDirectRoutes({
      strategies: this.strategies,
      headers: this.headers,
      interceptors: [CashewsRouteInterceptor, CashewsInterceptor, CacheHeadersInterceptor, CashewsGlobalInterceptor],
      routeInterceptor: CashewsRouteInterceptor,
    });
  }
}

/**
 * The global interceptor, for what concerns routes without decorators too: the HTTP options (`Cache-Control`,
 * `Clear-Site-Data`, key contexts from the request, and detection headers along with them). Imported by a `forRoot`
 * that uses one of them, or with `globalInterceptors: true` (see `needsGlobalInterceptor`); detection headers alone
 * apply the module's middleware instead (see `configure`).
 */
@Module({
  imports: [CashewsCoreModule],
  providers: [
    // One global step: detection headers, Cache-Control, Clear-Site-Data and ETag wrapping the strategies, so the
    // headers see what controller-level decorators served.
    { provide: APP_INTERCEPTOR, useClass: CashewsGlobalInterceptor },
  ],
})
export class CashewsGlobalInterceptorsModule {}

/** The global exception filter, imported by every `forRoot` unless `globalFilter: false`. */
@Module({
  providers: [
    // Maps RateLimitError (429), CircuitOpenError / PerfDegradationError (503), LockedError (409) and
    // CacheTimeoutError (504).
    { provide: APP_FILTER, useClass: CashewsExceptionFilter },
  ],
})
export class CashewsGlobalFilterModule {}
