import { Logger } from '@nestjs/common';
import type { Backend } from './backends/backend.interface.js';
import { ClientSideBackend } from './backends/client-side.backend.js';
import { createCustomBackend } from './backends/create-custom-backend.js';
import { DisabledBackend } from './backends/disabled.backend.js';
import { MemoryBackend } from './backends/memory.backend.js';
import { PrefixRouterBackend } from './backends/prefix-router.backend.js';
import { RedisClusterBackend } from './backends/redis-cluster.backend.js';
import { RedisBackend } from './backends/redis.backend.js';
import { CacheService } from './cache.service.js';
import type { CacheOptions, ResolvedCacheConfig } from './config/cache-options.js';
import { resolveCacheConfig } from './config/cache-url.js';
import { CacheBackendError, CashewsConfigError } from './errors.js';
import { engineOf } from './engine/engine-of.js';
import { loadTraceApi, TracingObserver } from './telemetry/tracing.js';

function createBackend(config: ResolvedCacheConfig): Backend {
  if (!config.enable) return new DisabledBackend();
  const main = createSingleBackend(config);
  if (!config.prefixes?.length) return main;
  return new PrefixRouterBackend(
    main,
    config.prefixes.map(({ prefix, config: routed }) => ({ prefix, backend: createSingleBackend(routed) })),
  );
}

function createSingleBackend(config: ResolvedCacheConfig): Backend {
  switch (config.scheme) {
    case 'mem':
      return new MemoryBackend({ size: config.size, checkInterval: config.checkInterval });
    case 'redis+cluster':
      return new RedisClusterBackend(config);
    case 'custom':
      return createCustomBackend(config);
    default:
      return config.clientSide ? new ClientSideBackend(config) : new RedisBackend(config);
  }
}

async function connectWithin(backend: Backend, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no connection within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([backend.connect(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Creates and connects a cache instance outside Nest (scripts, benchmarks, tests). Inside Nest use
 * `CashewsModule.forRoot(url)`, which calls this for you.
 *
 * In safe mode (the default) an unreachable Redis does not fail start-up: the instance answers misses
 * and reconnects in the background. With `safe: false` start-up fails with {@link CacheBackendError}.
 * @throws CashewsConfigError for a bad URL or option.
 * @example
 * ```ts
 * const cache = await createCache('redis://127.0.0.1:6379/0?command_timeout=200ms');
 * await cache.set('greeting', 'hello', { ttl: '1m' });
 * await cache.close();
 * ```
 */
export async function createCache(url: string = 'mem://', options: CacheOptions = {}): Promise<CacheService> {
  const config = resolveCacheConfig(url, options);
  // Before anything connects: `tracing=on` without @opentelemetry/api is a configuration error.
  const traceApi = await loadTraceApi(config.tracing);
  const logger = new Logger(config.name ? `Cashews:${config.name}` : 'Cashews');
  for (const notice of [config, ...(config.prefixes ?? []).map((route) => route.config)].flatMap((c) => c.notices)) {
    logger.warn(notice);
  }
  const backend = createBackend(config);
  const service = new CacheService(backend, config);
  if (traceApi) engineOf(service).traceTo(new TracingObserver(traceApi, config.name ?? 'default'));
  try {
    // Cluster discovery needs a few round trips, Sentinel one connection to a Sentinel before the master's: give
    // them more than one connect timeout.
    const rounds = { 'redis+cluster': 3, 'redis+sentinel': 2 } as Partial<
      Record<ResolvedCacheConfig['scheme'], number>
    >;
    const budget = (c: ResolvedCacheConfig) => c.connectTimeout * (rounds[c.scheme] ?? 1) + 250;
    await connectWithin(backend, Math.max(budget(config), ...(config.prefixes ?? []).map((p) => budget(p.config))));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // A wrong setting (a database the server does not have) is no outage: safe mode must not hide it.
    if (error instanceof CashewsConfigError) {
      await backend.close();
      throw error;
    }
    if (!config.safe) {
      await backend.close();
      throw new CacheBackendError(`Cannot connect to cache ${config.displayUrl}: ${reason}`, { cause: error });
    }
    logger.warn(
      `Cannot connect to cache ${config.displayUrl} (${reason}); safe mode: answering misses until it is reachable.`,
    );
  }
  return service;
}
