import { Cluster, type Redis } from 'ioredis';
import keySlot from 'cluster-key-slot';
import type { BatchWrite } from './batch-write.js';
import { applyInOrder } from '../transactions/apply-in-order.js';
import type { ResolvedCacheConfig } from '../config/cache-options.js';
import { tagIndexKey, tagsOfKey } from '../tags/tag-keys.js';
import { RedisBackend, redisConnectionOptions } from './redis.backend.js';

/**
 * Backend on Redis Cluster (`redis+cluster://`). Multi-key commands would fail with CROSSSLOT when keys
 * live in different slots, so they are split into single-key commands (ioredis auto-pipelines them per
 * node); scans and flushes visit every master.
 * @example
 * ```ts
 * const cache = await createCache('redis+cluster://10.0.0.1:7000,10.0.0.2:7000');
 * console.log(cache.backend instanceof RedisClusterBackend); // true
 * ```
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
        // A command whose node connection closed may have run: reject it (safe mode: a miss) instead of
        // re-sending it after a slot refresh, so INCR, scripts and SET NX locks run at most once per call.
        // (MOVED/ASK/TRYAGAIN/CLUSTERDOWN replies mean the command did not run; those are still retried.)
        retryDelayOnFailover: 0,
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
    return this.unlinkAll([...keys]);
  }

  protected override async unlinkAll(keys: string[]): Promise<number> {
    const removed = await Promise.all(keys.map((key) => this.unlinkTagged(key)));
    return removed.reduce((sum, n) => sum + n, 0);
  }

  /**
   * The key, its tag list and the index entries live in different slots, so the removal takes separate
   * steps: unlink the key, take its tag list, take it out of each index. Should a tagged write of the same
   * key land meanwhile, the key exists again at the end and is indexed again under those tags (as in
   * `setTagged`): a race may over-invalidate, never leave a live key out of its tags. What it may leave is an
   * index entry of a write whose tag list arrived after the removal read it (until the tag is deleted).
   */
  private async unlinkTagged(key: string): Promise<number> {
    const removed = await this.client.unlink(key);
    await this.untagRemoved(key);
    return removed;
  }

  /** Takes a removed key out of its tags' indexes (see {@link unlinkTagged}). */
  private async untagRemoved(key: string): Promise<void> {
    const tagsOf = tagsOfKey(key);
    const indexes = await this.tagScripts.cashewsTakeTags(tagsOf);
    if (indexes.length === 0) return;
    await Promise.all(indexes.map((index) => this.tagScripts.cashewsUntag(index, key)));
    const ttl = await this.client.pttl(key);
    if (ttl !== -2) {
      const keep = ttl > 0 ? ttl : 0;
      await Promise.all(indexes.map((index) => this.tagScripts.cashewsIndexTag(index, key, keep)));
      await this.tagScripts.cashewsListTags(tagsOf, keep, ...indexes);
    }
  }

  /**
   * A key and its tag indexes live in different slots, so no script may touch them together: the key is
   * written first, then each index by a single-key script, then its tag list. Not atomic: should the process
   * die between the steps, the key is not indexed (it lives out its TTL), or is indexed without its tag
   * list (its index entries then stay until its TTL ends or the tag is deleted).
   */
  override async setTagged(
    key: string,
    raw: unknown,
    tags: readonly string[],
    options: { ttl?: number; exist?: boolean } = {},
  ): Promise<boolean> {
    if (!(await this.set(key, raw, options))) return false;
    const indexes = tags.map(tagIndexKey);
    await Promise.all(indexes.map((index) => this.tagScripts.cashewsIndexTag(index, key, options.ttl ?? 0)));
    await this.tagScripts.cashewsListTags(tagsOfKey(key), options.ttl ?? 0, ...indexes);
    return true;
  }

  /**
   * A `MULTI`/`EXEC` needs every key in one hash slot: a commit whose keys share a slot (keys with the same
   * `{hash tag}`) and carry no tags is atomic; any other is applied write by write (a tag index lives in a slot of
   * its own), so a process dying midway leaves the writes before that point applied.
   */
  override async commit(writes: readonly BatchWrite[]): Promise<void> {
    const slots = new Set(writes.map((write) => keySlot(write.key)));
    const tagged = writes.some((write) => write.op === 'set' && write.tags?.length);
    if (slots.size === 1 && !tagged) return super.commit(writes);
    await applyInOrder(this, writes);
  }

  /** The tag list and indexes live in other slots: a commit unlinks the key alone, and untags it after `EXEC`. */
  protected override queueDelete(
    multi: Record<string, (...args: Array<string | number>) => unknown>,
    key: string,
  ): void {
    multi.unlink(key);
  }

  protected override async afterCommit(deleted: readonly string[]): Promise<void> {
    await Promise.all(deleted.map((key) => this.untagRemoved(key)));
  }
}
