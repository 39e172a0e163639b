import { Inject, Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { CacheService } from './cache.service.js';
import { getCacheToken } from './cache.tokens.js';
import { CashewsConfigError, type KeyPlaceholderError } from './errors.js';
import type { ExecutorHooks, Layer, MissingKeyOutcome } from './strategies/executor.js';

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
  constructor(@Inject(ModuleRef) private readonly moduleRef: ModuleRef) {}

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
      this.instances.set(name, cache);
    }
    return cache;
  }

  cacheFor(layer: Layer): CacheService {
    return this.get(layer.cacheName);
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

  onBackgroundError(target: string, error: unknown): void {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.logger.warn(`Background refresh of ${target} failed: ${reason}`);
  }
}
