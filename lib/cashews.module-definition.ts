import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { CacheableClassType } from './codec/class-registry.js';
import type { CacheOptions } from './config/cache-options.js';
import type { CashewsHttpOptions } from './detect/http-options.js';
import type { CashewsStatsOptions } from './stats/stats-options.js';

/**
 * Options of `CashewsModule.forRoot` / `forRootAsync`: a URL plus any {@link CacheOptions} override, HTTP
 * behaviour, and the usage-statistics routes (`metrics`, `dashboard`).
 */
export interface CashewsModuleOptions extends CacheOptions, CashewsHttpOptions, CashewsStatsOptions {
  /**
   * Classes whose instances come back from the cache as instances (same as `@CacheableClass()` on each);
   * a stored instance of a class whose definition changed since reads as a miss.
   */
  classes?: CacheableClassType[];
  /** Backend URL: `mem://`, `redis://`, `rediss://` or `redis+cluster://`. Default `'mem://'`. */
  url?: string;
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
}

export const {
  ConfigurableModuleClass: CashewsConfigurableModule,
  MODULE_OPTIONS_TOKEN: CASHEWS_MODULE_OPTIONS,
  OPTIONS_TYPE: CASHEWS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: CASHEWS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<CashewsModuleOptions>({ moduleName: 'Cashews' })
  .setClassMethodName('forRoot')
  .setExtras<CashewsModuleExtras>(
    { isGlobal: true, name: undefined, cacheManagerCompat: false },
    (definition, extras) => ({
      ...definition,
      global: extras.isGlobal ?? true,
    }),
  )
  .build();
