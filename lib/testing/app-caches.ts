import type { INestApplicationContext } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { CacheService } from '../cache.service.js';
import { backgroundSettled } from '../strategies/executor.js';

/**
 * Every cache instance of an application or testing module: the default one, named ones, and any
 * `CacheService` substituted with `overrideProvider(CacheService).useValue(...)`.
 * @example
 * ```ts
 * for (const instance of cacheInstances(app)) instance.disable(); // every call runs its method
 * ```
 */
export function cacheInstances(app: INestApplicationContext): CacheService[] {
  const found = new Set<CacheService>();
  for (const module of app.get(ModulesContainer, { strict: false }).values()) {
    for (const wrapper of module.providers.values()) {
      if (wrapper.instance instanceof CacheService) found.add(wrapper.instance);
    }
  }
  return [...found];
}

/**
 * Resets every cache instance of `app` between tests: waits for background refreshes started so far, turns back
 * on whatever `disable()` switched off, and removes every key, protection state included (rate limits, circuits,
 * locks). On Redis that is `FLUSHDB` of the instance's database: give tests a database of their own.
 * @example
 * ```ts
 * afterEach(() => resetCaches(app));
 * ```
 */
export async function resetCaches(app: INestApplicationContext): Promise<void> {
  await backgroundSettled();
  for (const cache of cacheInstances(app)) {
    cache.enable();
    await cache.clear();
  }
}
