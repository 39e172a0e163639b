import type { RedisOptions } from 'ioredis';
import type { ResolvedCacheConfig } from '../config/cache-options.js';

/**
 * Where a single-master connection goes: the server of `redis://` / `rediss://`, or, for `redis+sentinel://`, the
 * master the Sentinels name (ioredis asks them on every connect, so a reconnect after a failover finds the new one).
 */
export function serverAddress(config: ResolvedCacheConfig): RedisOptions {
  if (config.scheme !== 'redis+sentinel') return { ...config.nodes[0] };
  return {
    sentinels: config.nodes,
    name: config.sentinelName,
    sentinelPassword: config.sentinelPassword,
    role: 'master',
    // Subscribes to +switch-master on the Sentinels and drops the connection when it comes: without it the client
    // keeps writing to the old master until Sentinel demotes it, some 10 s after the switch, and all of those
    // writes are lost when it resynchronises from the new master.
    failoverDetector: true,
    // When no Sentinel answers, fail the connection attempt instead of looping inside it: the reconnect then
    // follows the client's own retryStrategy, and start-up reports the failure (safe mode: misses meanwhile).
    sentinelRetryStrategy: () => null,
    // The failover detector's Sentinel connections: same backoff as the data connection (ioredis waits 60 s).
    sentinelReconnectStrategy: (times) => Math.min(times * 100, 2_000),
    // A Sentinel that stopped answering must not hold up the resolution of the master.
    sentinelCommandTimeout: config.connectTimeout,
    // A write refused as READONLY never ran: the server we are on is a replica now (a failover the detector
    // missed). Drop the connection so the next one asks the Sentinels again; the command itself is rejected,
    // not re-sent (`true`, never `2`, which would re-send it).
    reconnectOnError: (error) => error.message.startsWith('READONLY'),
  };
}
