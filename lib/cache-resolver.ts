import { Inject, Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { CacheService } from './cache.service.js';
import { getCacheToken } from './cache.tokens.js';
import { CashewsConfigError } from './errors.js';
import type { ExecutorHooks, Layer } from './strategies/executor.js';

/**
 * Finds the cache instance a decorator names and gives the executor its hooks. Shared by the
 * interceptor and the provider explorer so both resolve instances and log the same way.
 */
@Injectable()
export class CacheResolver implements ExecutorHooks {
  private readonly logger = new Logger('Cashews');
  private readonly instances = new Map<string | undefined, CacheService>();

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

  onBackgroundError(target: string, error: unknown): void {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.logger.warn(`Background refresh of ${target} failed: ${reason}`);
  }
}
