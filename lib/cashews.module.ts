import { Module, type DynamicModule } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import {
  CASHEWS_ASYNC_OPTIONS_TYPE,
  CASHEWS_MODULE_OPTIONS,
  CashewsConfigurableModule,
  MODULE_EXTRAS,
  type CashewsForRootOptions,
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
import { cacheParameterNames, closestName } from './config/cache-url.js';
import { describeArgument } from './config/describe-argument.js';
import { createCache } from './create-cache.js';
import { providedLazily } from './loaded-lazily.js';
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
    urlOrOptions: string | CashewsForRootOptions = 'mem://',
    options: Omit<CashewsForRootOptions, 'url'> = {},
  ): DynamicModule {
    const merged = typeof urlOrOptions === 'string' ? { ...options, url: urlOrOptions } : urlOrOptions;
    // The builder's options type refuses the extras (for forRootAsync factories); forRoot takes them, and the
    // builder's forRoot leaves them out of the options it provides.
    return CashewsModule.withInstance(super.forRoot(merged as never), merged);
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
            refuseLazy(modules, token, extras.name);
            refuseNonObject(options, isAsync(extras));
            if (isAsync(extras)) refuseFactoryExtras(options);
            refuseUnknownOptions(options, isAsync(extras));
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
 * A `forRoot` imported by a module loaded with `LazyModuleLoader` would create its instance after start-up. Nest runs
 * no lifecycle hook in such a module, so nothing would ever close the instance (its Redis connections would keep the
 * process alive); without a `forRoot` at start-up the decorators would not be applied either. Refused before it
 * connects, so the `load()` rejects with the fix (after the duplicate check, which says the same as at start-up).
 */
function refuseLazy(modules: ModulesContainer, token: string | typeof CacheService, name: string | undefined): void {
  if (!providedLazily(modules, token)) return;
  const which = name === undefined ? 'CashewsModule.forRoot(url)' : `CashewsModule.forRoot(url, { name: '${name}' })`;
  throw new CashewsConfigError(
    `${which} is imported by a module loaded with LazyModuleLoader: its instance would be created ` +
      'after start-up, where Nest runs no lifecycle hooks, so it would never be closed. Import it in a module loaded ' +
      "at start-up (the root module) and leave it out of the lazily loaded module: that module's providers inject " +
      "the application's instances (global unless isGlobal: false; then import a shared module that exports it), " +
      'and their decorators are applied when load() returns.',
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
  if (isAsync(extras)) return false;
  return everyRouteOptions(extras as Record<string, unknown>);
}

/** Options of the module besides the cache parameters (options object only); `prefixes` and `hooks` are cache options. */
const MODULE_OPTIONS = [
  'url',
  'prefixes',
  'hooks',
  'classes',
  'shutdownTimeout',
  'detectHeaders',
  'cacheControl',
  'clearSiteData',
  'keyContext',
  'metrics',
  'dashboard',
];

/** What a `forRootAsync` factory returned, when it is not an options object (a URL string, nothing). */
function refuseNonObject(options: unknown, async: boolean): void {
  if (typeof options === 'object' && options !== null && !Array.isArray(options)) return;
  // A string is typically the URL, whose password is not to be echoed.
  const got = typeof options === 'string' ? 'a string' : describeArgument(options);
  throw new CashewsConfigError(
    async
      ? `The CashewsModule.forRootAsync options factory must return an options object, such as { url: ` +
          `config.get('CACHE_URL') } (got ${got}). A URL alone is returned as { url }.`
      : `CashewsModule.forRoot takes a URL string or an options object such as { url: 'mem://' } (got ${got}).`,
  );
}

/**
 * An option the module does not know (a typo of a module option, such as `detectHeader`, or of a cache parameter). The
 * cache URL's own check would list the cache parameters only: this message lists the module's options too, and
 * suggests the closest name. Names the cache URL's check knows (a parameter of another scheme) are left to it.
 */
function refuseUnknownOptions(options: object, async: boolean): void {
  const cache = cacheParameterNames((options as { url?: unknown }).url ?? 'mem://');
  // A malformed URL or unknown scheme: createCache names it.
  if (!cache) return;
  const module = async ? MODULE_OPTIONS : [...MODULE_OPTIONS, ...MODULE_EXTRAS];
  for (const key of Object.keys(options)) {
    // A forRootAsync factory's settings were refused when given (refuseFactoryExtras); undefined ones change nothing.
    if (module.includes(key) || cache.known(key) || MODULE_EXTRAS.includes(key as never)) continue;
    const close = closestName(key, [...cache.accepted, ...MODULE_OPTIONS, ...MODULE_EXTRAS]);
    const where = async
      ? 'the options returned by the CashewsModule.forRootAsync factory'
      : 'CashewsModule.forRoot options';
    throw new CashewsConfigError(
      `Unknown option "${key}" in ${where}.${close ? ` Did you mean "${close}"?` : ''} Accepted: cache parameters ` +
        `for ${cache.scheme} (also in the URL): ${cache.accepted.join(', ')}; module options (options object only): ` +
        `${module.join(', ')}${async ? `; beside useFactory: ${MODULE_EXTRAS.join(', ')}` : ''}.`,
    );
  }
}

/** Whether these are the options of a `forRootAsync` (an options factory), not of a `forRoot`. */
function isAsync(extras: CashewsModuleExtras): boolean {
  return 'useFactory' in extras || 'useClass' in extras || 'useExisting' in extras;
}

/**
 * Module settings returned by a `forRootAsync` factory: they decide the module's token, scope and imports, fixed before
 * the factory runs, so there they would be ignored (a `name` made the instance the default one). Refused at bootstrap.
 */
function refuseFactoryExtras(options: object): void {
  const given = MODULE_EXTRAS.filter((key) => (options as Record<string, unknown>)[key] !== undefined);
  if (given.length === 0) return;
  const example = given
    .map((key) => {
      const value = (options as Record<string, unknown>)[key];
      return `${key}: ${typeof value === 'string' ? `'${value}'` : String(value)}`;
    })
    .join(', ');
  throw new CashewsConfigError(
    `The CashewsModule.forRootAsync options factory returned ${given.map((key) => `"${key}"`).join(', ')}, which ` +
      `must be known before the factory runs (they decide the module's token, scope and imports). Pass ` +
      `${given.length === 1 ? 'it' : 'them'} beside useFactory (or useClass / useExisting): ` +
      `CashewsModule.forRootAsync({ ${example}, useFactory: … }).`,
  );
}

/**
 * Whether HTTP options concern every route (`cacheControl`, `clearSiteData`, `keyContext`). Detection headers alone
 * do not: the module's middleware (DetectHeadersMiddleware) describes undecorated routes, and decorated ones describe
 * themselves.
 */
function everyRouteOptions(options: Record<string, unknown>): boolean {
  return ['cacheControl', 'clearSiteData', 'keyContext'].some((name) => Boolean(options[name]));
}
