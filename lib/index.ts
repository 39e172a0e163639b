export type { Backend } from './backends/backend.interface.js';
export { DisabledBackend } from './backends/disabled.backend.js';
export { MemoryBackend, type MemoryBackendOptions } from './backends/memory.backend.js';
export { RedisBackend } from './backends/redis.backend.js';
export { RedisClusterBackend } from './backends/redis-cluster.backend.js';
export { CacheService, MISS, type LockOptions, type SetOptions } from './cache.service.js';
export { getCacheToken, InjectCache } from './cache.tokens.js';
export type { CashewsModuleExtras, CashewsModuleOptions } from './cashews.module-definition.js';
export { CashewsModule } from './cashews.module.js';
export type { CacheOptions } from './config/cache-options.js';
export { resolveCacheConfig } from './config/cache-url.js';
export { createCache } from './create-cache.js';
export { parseDuration, type Duration } from './duration.js';
export {
  CacheBackendError,
  CacheValueError,
  CashewsConfigError,
  CashewsError,
  isCashewsError,
  LockedError,
} from './errors.js';
