import { Inject, Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { CacheService } from './cache.service.js';
import type { CacheEngine } from './engine/cache-engine.js';
import { engineOf } from './engine/engine-of.js';
import { getCacheToken } from './cache.tokens.js';
import { CashewsRegistry } from './cashews.registry.js';
import { CashewsConfigError, type KeyPlaceholderError } from './errors.js';
import type { ExecutorHooks, Layer, MissingKeyOutcome } from './strategies/executor.js';
import type { ProblemSeverity } from './strategies/strategy.js';
import { layerOptions } from './strategies/store-policy.js';

/**
 * Finds the cache instance a decorator names and gives the executor its hooks. Shared by the
 * interceptor and the provider explorer so both resolve instances and log the same way.
 */
@Injectable()
export class CacheResolver implements ExecutorHooks {
  private readonly logger = new Logger('Cashews');
  private readonly instances = new Map<string | undefined, CacheService>();
  private readonly engines = new Map<string | undefined, CacheEngine>();
  /** Placeholders already reported as rendering `undefined`, per layer: each is logged once. */
  private readonly missingReported = new WeakMap<Layer, Set<string>>();
  /** Configuration problems calls revealed, per layer: each kind is logged once. */
  private readonly problemsReported = new WeakMap<Layer, Set<string>>();

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
      this.engines.set(name, engineOrRefuse(cache, name));
      this.instances.set(name, cache);
    }
    return cache;
  }

  /** The engine of an instance (what strategies run on); @throws as {@link get}. */
  engine(name?: string): CacheEngine {
    let engine = this.engines.get(name);
    if (!engine) {
      this.get(name);
      engine = this.engines.get(name)!;
    }
    return engine;
  }

  /**
   * The instance `layer` runs on. Called at bootstrap for every decorated method (see the explorer), so a
   * decorator without `ttl` on an instance without a default TTL fails start-up here.
   */
  cacheFor(layer: Layer): CacheEngine {
    const engine = this.engine(layer.cacheName);
    layerOptions(layer, engine);
    return engine;
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

  onLayerProblem(layer: Layer, target: string, kind: string, message: string, severity?: ProblemSeverity): void {
    let reported = this.problemsReported.get(layer);
    if (!reported) this.problemsReported.set(layer, (reported = new Set()));
    if (reported.has(kind)) return;
    reported.add(kind);
    const line = `@${layer.strategy} on ${target || layer.base}: ${message} Logged once.`;
    if (severity === 'warn') this.logger.warn(line);
    else this.logger.error(line);
  }

  /** Events are rare by design (an `@Adaptive` decision changes at most once per window): each is logged. */
  onLayerEvent(layer: Layer, target: string, message: string): void {
    this.logger.log(`@${layer.strategy} on ${target || layer.base}: ${message}`);
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

/**
 * A stand-in given with `overrideProvider(CacheService).useValue({ get: jest.fn() })` works for code calling it
 * directly, but decorated methods run on the engine of a real instance: refused when the decorators are bound
 * (bootstrap), with the fix.
 */
function engineOrRefuse(cache: CacheService, name: string | undefined): CacheEngine {
  try {
    return engineOf(cache);
  } catch {
    const token = name ? `getCacheToken('${name}')` : 'CacheService';
    throw new CashewsConfigError(
      `The ${name ? `cache instance "${name}"` : 'default cache instance'} provided for ${token} is not a CacheService ` +
        `created by createCache() or CashewsModule, and decorated methods use it. ` +
        `Override it with a real instance instead: overrideProvider(${token}).useValue(await createCache('mem://')), ` +
        `and spy on the methods you want to check (jest.spyOn(instance, 'get')).`,
    );
  }
}
