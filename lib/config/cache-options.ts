import type { CustomBackendConfig } from '../backends/custom-backend-config.js';
import type { CommandHook } from '../pipeline/command-hook.js';
import type { Duration } from '../duration.js';
import type { TracingMode } from '../telemetry/tracing.js';

/**
 * Options of one cache instance. Every field may also be given in the URL query (snake_case or
 * camelCase); a field given here overrides the URL.
 */
export interface CacheOptions {
  /** Instance name for `@InjectCache(name)`; the unnamed instance is injected as `CacheService`. */
  name?: string;
  /** `false` turns the cache off: commands answer misses, decorated methods always run. Default `true`. */
  enable?: boolean;
  /** Backend failures become misses (logged) instead of errors. Default `true`. */
  safe?: boolean;
  /** Signs stored values with HMAC-SHA256; unsigned or tampered values read as misses. */
  secret?: string;
  /**
   * Default time to live of this instance: used by decorators that give no `ttl` (`@Cache()`) and by `set`,
   * `setMany` and `getOrSet` called without one. Without it, such decorators are refused at bootstrap and `set`
   * without `ttl` stores a key that never expires. A key that must never expire despite a default:
   * `set(key, value, { ttl: 'never' })`. URL form: `?ttl=5m`.
   * @example CashewsModule.forRoot('redis://localhost:6379', { ttl: '5m' })
   */
  ttl?: Duration;
  /** `mem://` only: maximum number of entries (LRU). Default 10 000. */
  size?: number;
  /** `mem://` only: how often expired entries are swept. Default `'1m'`. */
  checkInterval?: Duration;
  /** Redis only: a command that takes longer fails (a miss in safe mode). Default `'1s'`. */
  commandTimeout?: Duration;
  /** Redis only: time allowed to establish a connection. Default `'2s'`. */
  connectTimeout?: Duration;
  /**
   * Redis only. Has no effect and is reported at start-up: commands are never re-sent after a reconnect (a
   * non-idempotent command must run at most once). Accepted so that existing URLs still boot.
   * @deprecated Remove it.
   */
  maxRetries?: number;
  /**
   * `redis://`/`rediss://` only: keep a local in-process copy of values read, kept coherent by Redis client
   * tracking (see the README, "Client-side cache"). Default `false`. Refused on `redis+cluster://`.
   */
  clientSide?: boolean;
  /** With `clientSide`: maximum number of locally held entries (LRU). Default 10 000. */
  clientSideSize?: number;
  /**
   * `redis://`, `rediss://`, `redis+sentinel://`: a write answers only once `WAIT` reports that this many replicas
   * hold it (and fails otherwise, as any backend failure), so a failover to one of them cannot lose it. Default `0`
   * (replication stays asynchronous). See the README, "Sentinel".
   */
  waitReplicas?: number;
  /** `redis+sentinel://` only: the password of the Sentinels (the URL's user info is the master's). */
  sentinelPassword?: string;
  /**
   * `'cashews'` (default): the tagged format that round-trips dates, maps, sets, bigints, `undefined` and registered
   * classes, and can be signed and compressed. `'json'`: plain JSON text, readable by services in any language
   * (see the README, "Values"); values JSON cannot hold are refused with `CacheValueError`.
   */
  codec?: 'cashews' | 'json';
  /** Redis only: compress values whose encoded text is at least `compressMin` long, with Node's zlib. */
  compress?: 'gzip' | 'br';
  /** With `compress`: smallest encoded value compressed, in bytes or `'1KB'`-style. Default 1 KB. */
  compressMin?: number | string;
  /**
   * OpenTelemetry: every decorated call reports its outcome (`cashews.hit`, `cashews.miss`, `cashews.stale`, …) as an
   * event and attributes on the caller's active span. `'auto'` (the default) when the optional peer
   * `@opentelemetry/api` is installed, `'on'` requires it (bootstrap fails without), `'off'` never. URL: `?tracing=off`.
   */
  tracing?: TracingMode;
  /**
   * Routes keys by prefix to other backends, each given by its own URL (longest prefix wins), e.g.
   * `{ 'session:': 'redis://10.0.0.2:6379/1', 'tmp:': 'mem://?size=100' }`. Keys without a listed prefix go to
   * the main URL. Object only (not a URL parameter).
   */
  prefixes?: Record<string, string>;
  /**
   * Command hooks, run in this order on every command of the instance before it reaches the backend (see
   * {@link CommandHook} and the README, "Command hooks"). Object only (not a URL parameter).
   */
  hooks?: readonly CommandHook[];
}

/** Options after URL and object are merged and validated: every duration is in milliseconds. */
export interface ResolvedCacheConfig {
  /** `custom` for a scheme registered with `registerBackend` (its name and URL parts are in {@link custom}). */
  scheme: 'mem' | 'redis' | 'rediss' | 'redis+cluster' | 'redis+sentinel' | 'custom';
  /** The URL with any password replaced by `***`, for logs and errors. */
  displayUrl: string;
  name?: string;
  enable: boolean;
  safe: boolean;
  secret?: string;
  /** Default TTL in ms; `undefined` when none was configured. */
  ttl?: number;
  size: number;
  checkInterval: number;
  commandTimeout: number;
  connectTimeout: number;
  maxRetries: number;
  /** Warnings about the configuration that do not stop start-up (an option with no effect), logged once. */
  notices: string[];
  clientSide: boolean;
  clientSideSize: number;
  codec: 'cashews' | 'json';
  compress?: 'gzip' | 'br';
  compressMin: number;
  tracing: TracingMode;
  /** Routed backends from the `prefixes` option, longest prefix first. */
  prefixes?: Array<{ prefix: string; config: ResolvedCacheConfig }>;
  /** Command hooks of the instance, in order (checked when the instance is created). */
  hooks?: readonly CommandHook[];
  /** `redis+sentinel://`: the Sentinels; otherwise the server or the cluster's seed nodes. */
  nodes: Array<{ host: string; port: number }>;
  /** `redis+sentinel://` only: the master group name the Sentinels monitor. */
  sentinelName?: string;
  sentinelPassword?: string;
  /** Replicas that must hold a write before it answers (`WAIT`); 0: no waiting. */
  waitReplicas: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** With `scheme: 'custom'`: what the registered factory receives. */
  custom?: CustomBackendConfig;
}
