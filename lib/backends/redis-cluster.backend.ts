import { Cluster, type Redis } from 'ioredis';
import keySlot from 'cluster-key-slot';
import type { BatchWrite } from './batch-write.js';
import { applyInOrder } from '../transactions/apply-in-order.js';
import type { ResolvedCacheConfig } from '../config/cache-options.js';
import { tagIndexKey, tagsOfKey } from '../tags/tag-keys.js';
import { RedisBackend, redisConnectionOptions } from './redis.backend.js';
import { coalesceWrites } from './coalesced-writes.js';
import { StallWatchdog } from './stall-watchdog.js';

/** `SET`'s arguments for a write: `PX` for a TTL, `XX`/`NX` for `exist`. */
function setArgs(key: string, raw: unknown, options: { ttl?: number; exist?: boolean }): Array<string | number> {
  const args: Array<string | number> = [key, raw as string];
  if (options.ttl) args.push('PX', options.ttl);
  if (options.exist === true) args.push('XX');
  if (options.exist === false) args.push('NX');
  return args;
}

/**
 * Backend on Redis Cluster (`redis+cluster://`). Multi-key commands would fail with CROSSSLOT when keys
 * live in different slots, so they are split into single-key commands (each redirected on its own, those of one tick
 * leaving in one socket write per node); scans and flushes visit every master.
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
        // No auto-pipelining: ioredis re-sends a redirected auto-pipeline only when every failed command got the same
        // error and all the others are reads, so during a reshard an auto-pipeline mixing slots or writes handed raw
        // MOVED (or "All keys in the pipeline should belong to the same slots allocation group") to its callers:
        // hundreds of failures per 3000 slots moved. Sent one by one, each command follows its own MOVED/ASK.
        // It also made every command wait for the next connection attempt (up to 2 s) while the cluster was
        // unreachable, whatever command_timeout said; a command now fails at once then.
        enableAutoPipelining: false,
        maxRedirections: 16,
        // A command whose node connection closed may have run: reject it (safe mode: a miss) instead of
        // re-sending it after a slot refresh, so INCR, scripts and SET NX locks run at most once per call.
        // (MOVED/ASK/TRYAGAIN/CLUSTERDOWN replies mean the command did not run; those are still retried.)
        retryDelayOnFailover: 0,
        clusterRetryStrategy: (times) => Math.min(times * 100, 2_000),
        // A node connection that dropped reconnects by itself (ioredis's default leaves it ended until a MOVED makes
        // the cluster re-create it): without auto-pipelining, every command sent to an ended node failed ("Connection
        // is closed."), so the first burst after a dropped connection or a failover failed whole. Commands sent while
        // it reconnects wait in its queue, bounded by command_timeout; ones it had written are still failed, never
        // written again (failUnansweredOnClose).
        clusterNodeRetryStrategy: (times) => Math.min(times * 100, 2_000),
        slotsRefreshTimeout: config.connectTimeout,
      }),
    );
    this.connectTimeout = config.connectTimeout;
    // Nodes are connected as soon as the cluster is usable (and a node joining later, say a new master after a
    // failover, as soon as it joins) rather than on their first command, so that they are ready by the time commands
    // reach them (see connect). Not before: ioredis's own ready check fails on a node still connecting.
    const cluster = this.client as Cluster;
    cluster.on('ready', () => cluster.nodes('master').forEach(connectMaster));
    cluster.on('+node', (node: Redis) => {
      coalesceWrites(node);
      if (config.commandTimeout) this.watchStalls(node, config.commandTimeout);
      if (cluster.status === 'ready') connectMaster(node);
    });
    cluster.on('-node', (node: Redis) => {
      this.watchdogs.get(node)?.stop();
      this.watchdogs.delete(node);
    });
  }

  private readonly connectTimeout: number;
  /** One {@link StallWatchdog} per node connection (see {@link watchStalls}). */
  private readonly watchdogs = new Map<Redis, StallWatchdog>();

  /**
   * ioredis's per-command timeout fails a caller after `command_timeout`, but leaves its command on the connection:
   * a master that stops answering (frozen, a silent network path) kept its connection, every command sent to it
   * meanwhile was written and kept (memory growing with the outage), and all of them ran once it answered again,
   * though each caller had been told it failed (an INCR, a rate-limit step, a stale SET). The single server's
   * watchdog bounds that to the commands of one `command_timeout`: it fails them and drops the connection, which
   * reconnects by itself; commands sent meanwhile fail at once, as on any node that is not ready.
   */
  private watchStalls(node: Redis, timeoutMs: number): void {
    this.watchdogs.get(node)?.stop();
    this.watchdogs.set(node, new StallWatchdog(node, timeoutMs));
  }

  override async close(): Promise<void> {
    for (const watchdog of this.watchdogs.values()) watchdog.stop();
    this.watchdogs.clear();
    await super.close();
  }

  /**
   * Connects the masters too (bounded by `connect_timeout`): ioredis connects a node on its first command and, with
   * no offline queue, fails every other command sent to it until it is ready ("Connection is closed."), so the
   * first burst after start-up would fail but one command per node.
   */
  override async connect(): Promise<void> {
    await super.connect();
    const cluster = this.client as Cluster;
    if (cluster.status !== 'ready') return;
    cluster.nodes('master').forEach(connectMaster);
    let timer: NodeJS.Timeout | undefined;
    const ready = Promise.all(cluster.nodes('master').map((node) => nodeReady(node)));
    await Promise.race([ready, new Promise((resolve) => (timer = setTimeout(resolve, this.connectTimeout)))]);
    clearTimeout(timer);
  }

  protected override nodes(): Redis[] {
    return (this.client as Cluster).nodes('master');
  }

  override async getMany(keys: readonly string[]): Promise<unknown[]> {
    return Promise.all(keys.map((key) => this.get(key)));
  }

  /**
   * The key's tag list and indexes live in other slots, so the `SET` is a plain command and keeping a key that has
   * tags in them for its new life (its tag list extended, its entry in each index moved: see
   * lib/tags/redis-tag-scripts.ts) takes a step on the tag list's node, and one per index when it has tags. An
   * unconditional write sends both at once (a key without tags costs one more command, not one more round trip);
   * `NX`/`XX`, which may not write, waits for the `SET`.
   */
  override async set(key: string, raw: unknown, options: { ttl?: number; exist?: boolean } = {}): Promise<boolean> {
    const set = this.written(() =>
      (this.client.set as (...a: unknown[]) => Promise<string | null>)(...setArgs(key, raw, options)),
    );
    if (options.exist !== undefined) {
      if ((await set) !== 'OK') return false;
      await this.keepTags(key, options.ttl ?? 0);
      return true;
    }
    const [reply] = await Promise.all([set, this.keepTags(key, options.ttl ?? 0)]);
    return reply === 'OK';
  }

  /** `PEXPIRE`, and the key's tag entries moved to its new expiry (see {@link set}). */
  override async expire(key: string, ttl: number): Promise<boolean> {
    const [reply] = await Promise.all([this.written(() => this.client.pexpire(key, ttl)), this.keepTags(key, ttl)]);
    return reply === 1;
  }

  /** A key now living `ttl` ms (0: without TTL) stays that long in the tags its tag list names. */
  private async keepTags(key: string, ttl: number): Promise<void> {
    const indexes = await this.tagScripts.cashewsKeepTags(tagsOfKey(key), ttl);
    await Promise.all(indexes.map((index) => this.tagScripts.cashewsIndexTag(index, key, ttl)));
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
    // An ioredis MULTI waits for the cluster's next connection attempt (up to 2 s) while it knows no slots: fail at
    // once instead, as a single command does.
    const { status } = this.client as Cluster;
    if (status !== 'ready' && status !== 'wait') throw new Error(`Cluster isn't ready (${status})`);
    const slots = new Set(writes.map((write) => keySlot(write.key)));
    const tagged = writes.some((write) => write.op === 'set' && write.tags?.length);
    if (slots.size === 1 && !tagged) return super.commit(writes);
    await applyInOrder(this, writes);
  }

  /** The tag list lives in another slot: a commit sets the key alone, and keeps its tags after `EXEC`. */
  protected override queueSet(
    multi: Record<string, (...args: Array<string | number>) => unknown>,
    write: Extract<BatchWrite, { op: 'set' }>,
  ): void {
    multi.set(...setArgs(write.key, write.raw, write));
  }

  /** As {@link queueSet}: the key's TTL alone, its tags kept after `EXEC`. */
  protected override queueExpire(
    multi: Record<string, (...args: Array<string | number>) => unknown>,
    key: string,
    ttl: number,
  ): void {
    multi.pexpire(key, ttl);
  }

  /** The tag list and indexes live in other slots: a commit unlinks the key alone, and untags it after `EXEC`. */
  protected override queueDelete(
    multi: Record<string, (...args: Array<string | number>) => unknown>,
    key: string,
  ): void {
    multi.unlink(key);
  }

  /** Untags the keys the commit removed, and keeps the keys it set or gave a TTL in their tags. */
  protected override async afterCommit(
    writes: readonly BatchWrite[],
    replies: ReadonlyArray<[Error | null, unknown]>,
  ): Promise<void> {
    await Promise.all(
      writes.map((write, i) => {
        const [error, reply] = replies[i];
        if (write.op === 'delete') return this.untagRemoved(write.key);
        if (error || (write.op !== 'set' && write.op !== 'expire')) return undefined;
        if (write.op === 'set' ? reply !== 'OK' : reply !== 1) return undefined;
        return this.keepTags(write.key, write.ttl ?? 0);
      }),
    );
  }
}

/** Opens a master's connection if nothing has yet; a replica's is left alone (reads go to masters). */
function connectMaster(node: Redis): void {
  if (node.status === 'wait' && !node.options.readOnly) node.connect().catch(() => undefined);
}

/** Resolves once the node's connection is ready, or has given up (its failure shows on the commands sent to it). */
function nodeReady(node: Redis): Promise<void> {
  if (node.status === 'ready' || node.status === 'end') return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      node.off('ready', done);
      node.off('end', done);
      resolve();
    };
    node.on('ready', done);
    node.on('end', done);
  });
}
