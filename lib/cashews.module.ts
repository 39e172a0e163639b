import { Module, type DynamicModule } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import {
  CASHEWS_ASYNC_OPTIONS_TYPE,
  CASHEWS_MODULE_OPTIONS,
  CASHEWS_OPTIONS_TYPE,
  CashewsConfigurableModule,
  type CashewsModuleExtras,
  type CashewsModuleOptions,
} from './cashews.module-definition.js';
import { getCacheToken } from './cache.tokens.js';
import type { CacheService } from './cache.service.js';
import { CacheManager, getCacheManagerToken } from './compat/cache-manager.js';
import {
  CashewsCoreModule,
  CashewsGlobalFilterModule,
  CashewsGlobalInterceptorsModule,
} from './cashews-core.module.js';
import { httpFeatures } from './detect/http-options.js';
import { CashewsRegistry, parseShutdownTimeout, validateGlobals, validateModuleFlags } from './cashews.registry.js';
import { createCache } from './create-cache.js';
import { CashewsConfigError } from './errors.js';
import { registerCacheableClass } from './codec/class-registry.js';
import { validateStatsOptions } from './stats/stats-options.js';

/**
 * Registers a cache instance configured by one URL. Global by default.
 *
 * @example
 * ```ts
 * ;@Module({
 *   imports: [
 *     CashewsModule.forRoot(process.env.REDIS_URL ?? 'mem://'),
 *     // a second, named instance, injected with InjectCache('sessions')
 *     CashewsModule.forRoot('redis://localhost:6379/1', { name: 'sessions' }),
 *   ],
 * })
 * export class AppModule {}
 * ```
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
    const globals = {
      globalInterceptors: extras.globalInterceptors,
      globalFilter: extras.globalFilter,
      directRoutes: extras.directRoutes,
    };
    validateGlobals(globals);
    validateModuleFlags(extras);
    // Decided now for the module's imports; a forRootAsync factory's options can only add it at start-up.
    const globalInterceptor = needsGlobalInterceptor(extras);
    const compat = extras.cacheManagerCompat ? cacheManagerProviders(token, extras.name) : [];
    return {
      ...module,
      imports: [
        ...(module.imports ?? []),
        CashewsCoreModule,
        // Static modules: imported by several forRoots, still registered once per application.
        ...(globalInterceptor ? [CashewsGlobalInterceptorsModule] : []),
        ...(globals.globalFilter === false ? [] : [CashewsGlobalFilterModule]),
      ],
      providers: [
        ...(module.providers ?? []),
        ...compat,
        {
          provide: token,
          inject: [CASHEWS_MODULE_OPTIONS, ModulesContainer, CashewsRegistry],
          useFactory: async (options: CashewsModuleOptions, modules: ModulesContainer, registry: CashewsRegistry) => {
            refuseDuplicate(modules, token, extras.name);
            const {
              url,
              classes,
              detectHeaders,
              cacheControl,
              clearSiteData,
              keyContext,
              metrics,
              dashboard,
              ...rest
            } = options;
            const { shutdownTimeout, ...cacheOptions } = rest;
            validateStatsOptions({ metrics, dashboard });
            // Refuses HTTP options of the wrong kind (a keyContext that is not a function, ...), at bootstrap.
            httpFeatures([{ detectHeaders, cacheControl, clearSiteData, keyContext }]);
            const timeout = parseShutdownTimeout(shutdownTimeout);
            for (const type of classes ?? []) registerCacheableClass(type);
            const cache = await createCache(url, { ...cacheOptions, name: extras.name });
            try {
              registry.register(extras.name, {
                cache,
                http: { detectHeaders, cacheControl, clearSiteData, keyContext },
                stats: { metrics, dashboard },
                globals,
                imported: globalInterceptor,
                globalInterceptor:
                  globals.globalInterceptors ?? everyRouteOptions({ cacheControl, clearSiteData, keyContext }),
                shutdownTimeout: timeout,
              });
            } catch (error) {
              await cache.close();
              throw error;
            }
            return cache;
          },
        },
      ],
      // The core module too: `@UseInterceptors(CashewsInterceptor)` / `@UseFilters(CashewsExceptionFilter)` on a
      // controller resolve the resolver and registry through it.
      exports: [...(module.exports ?? []), token, ...compat.map((provider) => provider.provide), CashewsCoreModule],
    };
  }
}

/**
 * The opt-in cache-manager API over the instance (`cacheManagerCompat: true`): `CACHE_MANAGER` (the string
 * `@nestjs/cache-manager` uses) and, for the default instance, the `CacheManager` class as a token too.
 */
function cacheManagerProviders(token: string | typeof CacheService, name: string | undefined) {
  const named = {
    provide: getCacheManagerToken(name),
    inject: [token, CashewsRegistry],
    // `refreshThreshold` recomputes run in the background: the registry has app.close() wait for them.
    useFactory: (c: CacheService, registry: CashewsRegistry) =>
      new CacheManager(c, (key, work) => registry.track(`cache-manager wrap("${key}")`, work)),
  };
  return name ? [named] : [named, { provide: CacheManager, useExisting: getCacheManagerToken(name) }];
}

/**
 * Two `forRoot` of one name in one application would each register the same token, and one of them would
 * silently win. Refused before either connects.
 */
function refuseDuplicate(modules: ModulesContainer, token: unknown, name: string | undefined): void {
  let count = 0;
  for (const module of modules.values()) if (module.providers.has(token as string)) count++;
  if (count < 2) return;
  const which = name === undefined ? 'without a name' : `with name: ${JSON.stringify(name)}`;
  throw new CashewsConfigError(
    `CashewsModule.forRoot / forRootAsync is imported ${count} times ${which} in this application; only one ` +
      'would be used. Import it once (it is global unless isGlobal: false; then import it in one shared module ' +
      `that exports it), or give each further instance its own "name" option ` +
      `(CashewsModule.forRoot(url, { name: 'sessions' })) and inject it with @InjectCache('sessions').`,
  );
}

/**
 * Whether a `forRoot` imports the global interceptor. Decorated methods never need it (each decorator attaches
 * `CashewsRouteInterceptor` to its method); what does is an HTTP option that concerns every route (`Cache-Control`,
 * `Clear-Site-Data`, a request key context). `globalInterceptors: true` imports it anyway, `false` never. A
 * `forRootAsync` imports it only with `true`: its options are known once the application starts, when the core
 * module registers the interceptor if they ask for it (`CashewsCoreModule.configure`). Without it, a route without
 * decorators costs nothing.
 */
function needsGlobalInterceptor(extras: CashewsModuleExtras): boolean {
  if (extras.globalInterceptors !== undefined) return extras.globalInterceptors;
  const options = extras as CashewsModuleExtras & Record<string, unknown>;
  if ('useFactory' in options || 'useClass' in options || 'useExisting' in options) return false;
  return everyRouteOptions(options);
}

/**
 * Whether HTTP options concern every route (`cacheControl`, `clearSiteData`, `keyContext`). Detection headers alone
 * do not: the module's middleware (DetectHeadersMiddleware) describes undecorated routes, and decorated ones describe
 * themselves.
 */
function everyRouteOptions(options: Record<string, unknown>): boolean {
  return ['cacheControl', 'clearSiteData', 'keyContext'].some((name) => Boolean(options[name]));
}
