export type { Backend } from './backends/backend.interface.js';
export type { RawReader } from './backends/raw-reader.js';
export type {
  BackendFactory,
  BackendParamKind,
  BackendParams,
  BackendParamValue,
  CustomBackendConfig,
} from './backends/custom-backend-config.js';
export { registerBackend, type RegisterBackendOptions } from './config/register-backend.js';
export { DisabledBackend } from './backends/disabled.backend.js';
export { MemoryBackend, type MemoryBackendOptions } from './backends/memory.backend.js';
export { RedisBackend } from './backends/redis.backend.js';
export { RedisClusterBackend } from './backends/redis-cluster.backend.js';
export { ClientSideBackend } from './backends/client-side.backend.js';
export { PrefixRouterBackend } from './backends/prefix-router.backend.js';
export { ChaosBackend, type ChaosBackendOptions, type ChaosCounts } from './backends/chaos.backend.js';
export { definePrimitive, type MemoryEntries, type Primitive } from './primitives/primitive.js';
export { incrPrimitive } from './primitives/incr.primitive.js';
export { setLockPrimitive } from './primitives/set-lock.primitive.js';
export { unlockPrimitive } from './primitives/unlock.primitive.js';
export { fixedWindowPrimitive } from './primitives/fixed-window.primitive.js';
export { slidingWindowPrimitive } from './primitives/sliding-window.primitive.js';
export { circuitPrimitive } from './primitives/circuit.primitive.js';
// Bitmaps, sliding counters, sets, size and raw values (issue #13)
export { getBitsPrimitive } from './primitives/get-bits.primitive.js';
export { incrBitsPrimitive } from './primitives/incr-bits.primitive.js';
export { sliceIncrPrimitive } from './primitives/slice-incr.primitive.js';
export { setAddPrimitive } from './primitives/set-add.primitive.js';
export { setRemovePrimitive } from './primitives/set-remove.primitive.js';
export { setPopPrimitive } from './primitives/set-pop.primitive.js';
export { getRawPrimitive } from './primitives/get-raw.primitive.js';
export { getSizePrimitive } from './primitives/get-size.primitive.js';
export { CacheService, type LockOptions, type SetOptions, type StoreTtl } from './cache.service.js';
export { MISS, type Miss } from './miss.js';
export { getCacheToken, InjectCache } from './cache.tokens.js';
export type { CashewsModuleExtras, CashewsModuleOptions } from './cashews.module-definition.js';
export { CashewsModule } from './cashews.module.js';
export type { CacheOptions } from './config/cache-options.js';
export type { TracingMode } from './telemetry/tracing.js';
export { resolveCacheConfig } from './config/cache-url.js';
export { createCache } from './create-cache.js';
export {
  CACHE_MANAGER,
  CacheManager,
  getCacheManagerToken,
  type CacheManagerEntry,
  type CacheManagerTtl,
  type CacheManagerWrapOptions,
  type CacheManagerRawEntry,
} from './compat/cache-manager.js';
export { parseDuration, type Duration } from './duration.js';
export {
  CacheBackendError,
  CacheKeyError,
  CacheTimeoutError,
  CacheValueError,
  CashewsConfigError,
  CashewsError,
  CircuitOpenError,
  isCashewsError,
  KeyPlaceholderError,
  LockedError,
  PerfDegradationError,
  RateLimitError,
  TransactionError,
  UnsupportedPrimitiveError,
} from './errors.js';
export type { Transaction, TransactionMode, TransactionOptions } from './transactions/transaction.js';
export type { BatchWrite } from './backends/batch-write.js';
export { Transactional, type TransactionalOptions } from './decorators/transactional.decorator.js';
export { CacheDetect, type CacheHit, type DetectScope } from './detect/cache-detect.js';
// Invalidation, tags, versioned keys and classes, detection headers (issue #5)
export {
  Invalidate,
  type InvalidateMethodTarget,
  type InvalidateOptions,
  type InvalidateTarget,
} from './decorators/invalidate.decorator.js';
export { CacheableClass, type CacheableClassOptions } from './decorators/cacheable-class.decorator.js';
export { registerCacheableClass, unregisterCacheableClass, type CacheableClassType } from './codec/class-registry.js';
export { FromCacheMiddleware } from './detect/from-cache.middleware.js';
export { keyContext } from './keys/key-context.js';
export type { KeyContextRequest } from './detect/http-options.js';
export { CacheHeadersInterceptor } from './detect/cache-headers.interceptor.js';
export type { CashewsHttpOptions } from './detect/http-options.js';
export type { RequestDirectives } from './detect/request-directives.js';
export { Cache, type CacheDecoratorOptions } from './decorators/cache.decorator.js';
export { NoCache } from './decorators/class-cache.js';
export type {
  KeyFunctionOption,
  MethodResult,
  ProducingMethodDecorator,
  TypedMethodDecorator,
} from './decorators/typed-decorator.js';
export { Early, type EarlyDecoratorOptions } from './decorators/early.decorator.js';
export { Failover, type FailoverDecoratorOptions } from './decorators/failover.decorator.js';
// Adaptive caching (issue #14)
export { Adaptive, type AdaptiveDecoratorOptions } from './decorators/adaptive.decorator.js';
export type { AdaptiveGuard, AdaptiveStats, AdaptiveStore } from './adaptive/types.js';
export { HitCache, type HitCacheDecoratorOptions } from './decorators/hit-cache.decorator.js';
export { Locked, type LockedDecoratorOptions } from './decorators/locked.decorator.js';
export { Soft, type SoftDecoratorOptions } from './decorators/soft.decorator.js';
export type { KeyOptions } from './decorators/strategy-decorator.js';
export type { StampedeDecoratorOptions } from './decorators/stampede-options.js';
// Storing options on every storing decorator, caching errors (issue #12)
export type { ErrorCachingOptions, StoringDecoratorOptions } from './decorators/storing-options.js';
export type { CacheableErrorClass } from './strategies/cached-errors.js';
export { CashewsInterceptor } from './interceptors/cashews.interceptor.js';
export { backgroundSettled } from './strategies/executor.js';
export { Bloom, type BloomDecoratorOptions } from './decorators/bloom.decorator.js';
export { bloomFilter, type BloomHandle } from './explorer/bloom-handle.js';
// Testing an application: run-time switch and reset between tests (issue #11)
export type { SwitchCommand } from './pipeline/runtime-switch.js';
export type { CommandHook } from './pipeline/command-hook.js';
export { addPrefix } from './pipeline/hooks/add-prefix.hook.js';
export { lowerKeys } from './pipeline/hooks/lower-keys.hook.js';
export {
  valueSizeLimit,
  type ValueSizeLimitOptions,
  type ValueSizeLimitStats,
} from './pipeline/hooks/value-size-limit.hook.js';
export { onCommand, type CommandCallback } from './pipeline/hooks/on-command.hook.js';
export type {
  CommandArgs,
  CommandCall,
  CommandCallOf,
  CommandName,
  CommandResults,
  NextCommand,
} from './pipeline/command.js';
export { cacheInstances, resetCaches } from './testing/app-caches.js';
export type { ConditionOption, ExceptionsOption, TtlOption } from './strategies/strategy.js';
export { registerKeyFormatter, type KeyFormatter } from './keys/formatters.js';
export { registerKeyType, type KeyTypeRenderer } from './keys/key-types.js';
export { RateLimit, type RateLimitDecoratorOptions } from './decorators/rate-limit.decorator.js';
export { SlidingRateLimit, type SlidingRateLimitDecoratorOptions } from './decorators/sliding-rate-limit.decorator.js';
export { CircuitBreaker, type CircuitBreakerDecoratorOptions } from './decorators/circuit-breaker.decorator.js';
export { PerfDegradation, type PerfDegradationDecoratorOptions } from './decorators/perf-degradation.decorator.js';
export type { PerfCondition } from './strategies/perf-degradation.strategy.js';
export type { CircuitOp, CircuitSettings, CircuitState, WindowState } from './backends/protect-types.js';
export { CashewsExceptionFilter, type MappedCashewsError } from './filters/cashews-exception.filter.js';
// Usage statistics, Prometheus metrics and the stats page (issue #6)
export type { BackendStats, CacheStats, CircuitStateName, HistoryBucket, MethodStats } from './stats/types.js';
export { HISTORY_BUCKET_MS, HISTORY_BUCKETS } from './stats/types.js';
export type {
  CashewsDashboardOptions,
  CashewsMetricsOptions,
  CashewsStatsOptions,
  StatsGuard,
  StatsRequest,
} from './stats/stats-options.js';
export { metricFamilies, renderPrometheus, type MetricFamily, type MetricSample } from './metrics/prometheus.js';
