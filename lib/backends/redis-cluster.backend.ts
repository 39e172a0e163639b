import { Cluster, type Redis } from 'ioredis';
import type { ResolvedCacheConfig } from '../config/cache-options.js';
import { tagIndexKey } from '../tags/tag-keys.js';
import { RedisBackend, redisConnectionOptions } from './redis.backend.js';

/**
 * Backend on Redis Cluster (`redis+cluster://`). Multi-key commands would fail with CROSSSLOT when keys
 * live in different slots, so they are split into single-key commands (ioredis auto-pipelines them per
 * node); scans and flushes visit every master.
 */
export class RedisClusterBackend extends RedisBackend {
  override readonly kind = 'cluster' as const;

  constructor(config: ResolvedCacheConfig) {
    // Node connections are managed by the Cluster client, which owns queueing and reconnects.
    const { lazyConnect, enableOfflineQueue, retryStrategy, ...options } = redisConnectionOptions(config);
    super(
      config,
      new Cluster(config.nodes, {
        redisOptions: options,
        enableOfflineQueue: false,
        lazyConnect: true,
        enableAutoPipelining: true,
        maxRedirections: 16,
        clusterRetryStrategy: (times) => Math.min(times * 100, 2_000),
        slotsRefreshTimeout: config.connectTimeout,
      }),
    );
  }

  protected override nodes(): Redis[] {
    return (this.client as Cluster).nodes('master');
  }

  override async getMany(keys: readonly string[]): Promise<unknown[]> {
    return Promise.all(keys.map((key) => this.get(key)));
  }

  override async setMany(entries: ReadonlyArray<readonly [string, unknown]>, ttl?: number): Promise<void> {
    await Promise.all(entries.map(([key, raw]) => this.set(key, raw, { ttl })));
  }

  override async deleteMany(keys: readonly string[]): Promise<number> {
    const deleted = await Promise.all(keys.map((key) => this.client.del(key)));
    return deleted.reduce((sum, n) => sum + n, 0);
  }

  protected override async unlinkAll(keys: string[]): Promise<number> {
    const removed = await Promise.all(keys.map((key) => this.client.unlink(key)));
    return removed.reduce((sum, n) => sum + n, 0);
  }

  /**
   * A key and its tag indexes live in different slots, so no script may touch them together: the key is
   * written first, then each index by a single-key script. Not atomic: should the process die between
   * the two, the key is simply not indexed and lives out its TTL.
   */
  override async setTagged(
    key: string,
    raw: unknown,
    tags: readonly string[],
    options: { ttl?: number; exist?: boolean } = {},
  ): Promise<boolean> {
    if (!(await this.set(key, raw, options))) return false;
    await Promise.all(tags.map((tag) => this.tagScripts.cashewsIndexTag(tagIndexKey(tag), key, options.ttl ?? 0)));
    return true;
  }
}
