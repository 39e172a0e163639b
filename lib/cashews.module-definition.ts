import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { CacheableClassType } from './codec/class-registry.js';
import type { CacheOptions } from './config/cache-options.js';
import type { CashewsHttpOptions } from './detect/http-options.js';
import type { Duration } from './duration.js';
import type { CashewsStatsOptions } from './stats/stats-options.js';

/**
 * Options of `CashewsModule.forRoot` / `forRootAsync`: a URL plus any {@link CacheOptions} override, HTTP
 * behaviour, and the usage-statistics routes (`metrics`, `dashboard`). What a `forRootAsync` factory returns. The
 * instance's `name` is one of the {@link CashewsModuleExtras}, given beside the factory.
 */
export interface CashewsModuleOptions extends Omit<CacheOptions, 'name'>, CashewsHttpOptions, CashewsStatsOptions {
  /**
   * Classes whose instances come back from the cache as instances (same as `@CacheableClass()` on each);
   * a stored instance of a class whose definition changed since reads as a miss.
   */
  classes?: CacheableClassType[];
  /** Backend URL: `mem://`, `redis://`, `rediss://` or `redis+cluster://`. Default `'mem://'`. */
  url?: string;
  /**
   * How long `app.close()` waits for background refreshes in flight (`@Early`, `@Soft`, cache-manager
   * `refreshThreshold`) before closing connections: ms or a duration string. What still runs then is abandoned
   * (logged). With several `forRoot`s the longest applies. Default `'5s'`.
   */
  shutdownTimeout?: Duration;
}

/** Module-level settings that must be known before the options factory runs. */
export interface CashewsModuleExtras {
  /** Register the module globally. Default `true`. */
  isGlobal?: boolean;
  /** Instance name; inject a named instance with `@InjectCache(name)`. */
  name?: string;
  /**
   * Also provide this instance with cache-manager's API ({@link CacheManager}) under `CACHE_MANAGER` (named
   * instances: `getCacheManagerToken(name)`), for `@Inject(CACHE_MANAGER)` code written for
   * `@nestjs/cache-manager`. Default `false`.
   */
  cacheManagerCompat?: boolean;
  /**
   * The global interceptor (detection headers, `Cache-Control`, `Clear-Site-Data` and request key contexts on
   * every route). Decorated handlers never need it: each decorator attaches `CashewsRouteInterceptor` to its
   * method. Default: registered when this `forRoot` uses `cacheControl`, `clearSiteData` or
   * `keyContext` (for `forRootAsync`, when its factory's options do: added at start-up), so that routes
   * without decorators cost nothing otherwise; `detectHeaders` alone applies the module's middleware instead. `true`: always;
   * `false`: never (mount `CacheHeadersInterceptor` where needed).
   * Applies to the whole application: every `forRoot` of it must agree on `false`.
   */
  globalInterceptors?: boolean;
  /**
   * Register `CashewsExceptionFilter` (429 / 503 / 409 responses) as a global filter. `false`: mount it where
   * needed with `@UseFilters(CashewsExceptionFilter)`. Applies to the whole application: every `forRoot` of it must
   * agree. Default `true`.
   */
  globalFilter?: boolean;
  /**
   * Decorated controller handlers that nothing else intercepts, with only result-storing decorators (`@Cache`,
   * `@Failover`, …), run their layers in the handler's own function instead of an interceptor ("direct routes"): Nest
   * then serves the route without its interceptor machinery, about a sixth of a cached GET's CPU. What is sent does
   * not change, and guards still run first; the handler's pipes now run on every call, hits included (an interceptor
   * answered hits before them). A handler keeps the interceptor when it has interceptors of its own, a decorator that
   * stores no result (`@RateLimit`, `@Locked`, …), writes the response itself (`@Res()`), renders, redirects, streams
   * server-sent events or asks for an ETag; every handler does while the global interceptor is registered. `false`:
   * every decorated handler runs its layers in the interceptor. Applies to the whole application: every `forRoot` of
   * it must agree. Default `true`.
   */
  directRoutes?: boolean;
}

// Every key of CashewsModuleExtras (a Record, so that a new one cannot be left out).
const EXTRAS: Record<keyof CashewsModuleExtras, true> = {
  name: true,
  isGlobal: true,
  cacheManagerCompat: true,
  globalInterceptors: true,
  globalFilter: true,
  directRoutes: true,
};

/** The names of {@link CashewsModuleExtras}: refused in what a `forRootAsync` factory returns (see cashews.module.ts). */
export const MODULE_EXTRAS = Object.keys(EXTRAS) as ReadonlyArray<keyof CashewsModuleExtras>;

/**
 * What a `forRootAsync` factory (or `useClass` / `useExisting` options factory) returns: the module options, and none of
 * the {@link CashewsModuleExtras}, which must be known before it runs. A factory's return type gets no excess property
 * check, so they are spelt out as `never` for `useFactory: () => ({ url, name })` to be a compile error.
 */
export type CashewsFactoryOptions = CashewsModuleOptions & { [K in keyof CashewsModuleExtras]?: never };

/** Options of `CashewsModule.forRoot`: the module options and the module settings ({@link CashewsModuleExtras}). */
export type CashewsForRootOptions = CashewsModuleOptions & CashewsModuleExtras;

export const {
  ConfigurableModuleClass: CashewsConfigurableModule,
  MODULE_OPTIONS_TOKEN: CASHEWS_MODULE_OPTIONS,
  ASYNC_OPTIONS_TYPE: CASHEWS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<CashewsFactoryOptions>({ moduleName: 'Cashews' })
  .setClassMethodName('forRoot')
  .setExtras<CashewsModuleExtras>(
    {
      isGlobal: true,
      name: undefined,
      cacheManagerCompat: false,
      globalInterceptors: undefined,
      globalFilter: true,
      directRoutes: true,
    },
    (definition, extras) => ({
      ...definition,
      global: extras.isGlobal ?? true,
    }),
  )
  .build();
