import { Inject, Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { CacheService } from './cache.service.js';
import { getCacheToken } from './cache.tokens.js';
import { CashewsRegistry } from './cashews.registry.js';
import { CashewsConfigError, type KeyPlaceholderError } from './errors.js';
import type { ExecutorHooks, Layer, MissingKeyOutcome } from './strategies/executor.js';
import { layerOptions } from './strategies/store-policy.js';

/**
 * Finds the cache instance a decorator names and gives the executor its hooks. Shared by the
 * interceptor and the provider explorer so both resolve instances and log the same way.
 */
@Injectable()
export class CacheResolver implements ExecutorHooks {
  private readonly logger = new Logger('Cashews');
  private readonly instances = new Map<string | undefined, CacheService>();
  /** Placeholders already reported as rendering `undefined`, per layer: each is logged once. */
  private readonly missingReported = new WeakMap<Layer, Set<string>>();

  // Explicit tokens: DI must not depend on emitted type metadata (tsx, esbuild and vitest emit none).
  constructor(
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
    @Inject(CashewsRegistry) private readonly registry: CashewsRegistry,
  ) {}

  /** @throws CashewsConfigError when no `CashewsModule.forRoot` registered that instance. */
  get(name?: string): CacheService {
    let cache = this.instances.get(name);
    if (!cache) {
      try {
        cache = this.moduleRef.get<CacheService>(getCacheToken(name), { strict: false });
      } catch {
        throw new CashewsConfigError(
          name
            ? `No cache instance named "${name}". Register it with CashewsModule.forRoot(url, { name: '${name}' }).`
            : 'No default cache instance. Import CashewsModule.forRoot(url) in your application module.',
        );
      }
      refuseStandIn(cache, name);
      this.instances.set(name, cache);
    }
    return cache;
  }

  /**
   * The instance `layer` runs on. Called at bootstrap for every decorated method (see the explorer), so a
   * decorator without `ttl` on an instance without a default TTL fails start-up here.
   */
  cacheFor(layer: Layer): CacheService {
    const cache = this.get(layer.cacheName);
    layerOptions(layer, cache);
    return cache;
  }

  onMissingKeyPart(layer: Layer, target: string, error: KeyPlaceholderError, outcome: MissingKeyOutcome): void {
    let reported = this.missingReported.get(layer);
    if (!reported) this.missingReported.set(layer, (reported = new Set()));
    const what = `${outcome}:${error.placeholder}`;
    if (reported.has(what)) return;
    reported.add(what);
    const consequence =
      outcome === 'skipped'
        ? 'such calls run without it (nothing read or stored)'
        : outcome === 'client'
          ? 'such calls are counted per client (req.ip) instead'
          : `such calls fail with ${error.name}`;
    this.logger.warn(
      `@${layer.strategy} on ${target || layer.base}: key template "${error.template}" placeholder {${error.placeholder}} rendered undefined; ${consequence}. Logged once. Pass a value, or mark it optional ({${error.placeholder.replace(/^([^:]*)/, '$1?')}}) if such calls may share one key.`,
    );
  }

  /** Background refreshes belong to the application: `app.close()` waits for them (see {@link CashewsRegistry}). */
  trackBackground(target: string, work: Promise<void>): void {
    this.registry.track(target, work);
  }

  onBackgroundError(target: string, error: unknown): void {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.logger.warn(`Background refresh of ${target} failed: ${reason}`);
  }
}

/** What decorated methods call on their instance (the executor's `StrategyCache`). */
const STRATEGY_METHODS = [
  'read',
  'set',
  'delete',
  'deleteMatch',
  'deleteTags',
  'incr',
  'getExpire',
  'tryLock',
  'unlock',
  'lock',
  'singleFlight',
  'fixedWindow',
  'slidingWindow',
  'circuit',
  'readState',
  'writeState',
] as const;

/**
 * A stand-in given with `overrideProvider(CacheService).useValue({ get: jest.fn() })` works for code calling it
 * directly, but decorated methods would fail at their first call with `cache.read is not a function`: refused when
 * the decorators are bound (bootstrap), with the fix.
 */
function refuseStandIn(cache: unknown, name: string | undefined): void {
  const missing = STRATEGY_METHODS.filter(
    (method) => typeof (cache as Record<string, unknown> | null)?.[method] !== 'function',
  );
  if (missing.length === 0) return;
  const token = name ? `getCacheToken('${name}')` : 'CacheService';
  throw new CashewsConfigError(
    `The ${name ? `cache instance "${name}"` : 'default cache instance'} provided for ${token} is not a CacheService ` +
      `(it has no ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}), and decorated methods use it. ` +
      `Override it with a real instance instead: overrideProvider(${token}).useValue(await createCache('mem://')), ` +
      `and spy on the methods you want to check (jest.spyOn(instance, 'get')).`,
  );
}
