import { Module, type DynamicModule } from '@nestjs/common';
import {
  CASHEWS_ASYNC_OPTIONS_TYPE,
  CASHEWS_MODULE_OPTIONS,
  CASHEWS_OPTIONS_TYPE,
  CashewsConfigurableModule,
  type CashewsModuleExtras,
  type CashewsModuleOptions,
} from './cashews.module-definition.js';
import { getCacheToken } from './cache.tokens.js';
import { CashewsCoreModule } from './cashews-core.module.js';
import { createCache } from './create-cache.js';
import { registerCacheableClass } from './codec/class-registry.js';
import { setHttpOptions } from './detect/http-options.js';
import { setStatsOptions, validateStatsOptions } from './stats/stats-options.js';

/**
 * Registers a cache instance configured by one URL. Global by default.
 *
 * @example
 * ‍@Module({ imports: [CashewsModule.forRoot(process.env.REDIS_URL ?? 'mem://')] })
 * export class AppModule {}
 *
 * // a second, named instance
 * CashewsModule.forRoot('redis://localhost:6379/1', { name: 'sessions' })
 */
@Module({})
export class CashewsModule extends CashewsConfigurableModule {
  static override forRoot(
    urlOrOptions: string | typeof CASHEWS_OPTIONS_TYPE = 'mem://',
    options: Omit<typeof CASHEWS_OPTIONS_TYPE, 'url'> = {},
  ): DynamicModule {
    const merged = typeof urlOrOptions === 'string' ? { ...options, url: urlOrOptions } : urlOrOptions;
    return CashewsModule.withInstance(super.forRoot(merged), merged);
  }

  static override forRootAsync(options: typeof CASHEWS_ASYNC_OPTIONS_TYPE): DynamicModule {
    return CashewsModule.withInstance(super.forRootAsync(options), options);
  }

  private static withInstance(module: DynamicModule, extras: CashewsModuleExtras): DynamicModule {
    const token = getCacheToken(extras.name);
    return {
      ...module,
      imports: [...(module.imports ?? []), CashewsCoreModule],
      providers: [
        ...(module.providers ?? []),
        {
          provide: token,
          inject: [CASHEWS_MODULE_OPTIONS],
          useFactory: async (options: CashewsModuleOptions) => {
            const { url, classes, detectHeaders, cacheControl, clearSiteData, metrics, dashboard, ...rest } = options;
            validateStatsOptions({ metrics, dashboard });
            for (const type of classes ?? []) registerCacheableClass(type);
            const cache = await createCache(url, { ...rest, name: extras.name });
            setHttpOptions(cache, { detectHeaders, cacheControl, clearSiteData });
            setStatsOptions(cache, { metrics, dashboard });
            return cache;
          },
        },
      ],
      exports: [...(module.exports ?? []), token],
    };
  }
}
