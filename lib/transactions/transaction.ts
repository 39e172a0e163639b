import { randomUUID } from 'node:crypto';
import { CacheValueError, LockedError, TransactionError } from '../errors.js';
import { toRegExp } from '../keys/pattern.js';
import { MISS } from '../miss.js';
import type { CommandCall, NextCommand } from '../pipeline/command.js';
import type { Duration } from '../duration.js';

/**
 * How a transaction keeps others out (as in cashews):
 * - `fast`: no locks. Writes are applied together at commit; two transactions writing the same key both commit,
 *   the later commit wins.
 * - `locked`: a lock per written key, taken at the first write of the key and held until the end. A second
 *   transaction writing that key waits for it (up to `timeout`, then `LockedError`).
 * - `serializable`: one lock for the whole cache instance, taken when the transaction starts: transactions run
 *   one after another, across every process sharing the backend.
 */
export type TransactionMode = 'fast' | 'locked' | 'serializable';

/** Options of `cache.transaction()` and `@Transactional()`. */
export interface TransactionOptions {
  /** `'fast'`, `'locked'` (default) or `'serializable'`; see {@link TransactionMode}. */
  mode?: TransactionMode;
  /** Longest wait for a lock before `LockedError` (`locked` and `serializable`). Default `'10s'`. */
  timeout?: Duration;
  /** Longest a lock is held: the locks of a process that died expire after this. Default `'1m'`. */
  lockTtl?: Duration;
}

/**
 * The transaction a function runs in (`cache.transaction(async (tx) => …)`).
 * @example
 * ```ts
 * const cache = await createCache('mem://');
 * await cache.transaction(async (tx) => {
 *   await cache.set('order:1', { total: 30 });
 *   if ((await cache.get('stock:1')) === undefined) tx.rollback(); // nothing of this transaction is written
 * });
 * ```
 */
export interface Transaction {
  /** Unique per transaction (also the token of its locks). */
  readonly id: string;
  readonly mode: TransactionMode;
  /**
   * Discards every write made so far; nothing is committed, and a later write in the same transaction throws
   * `TransactionError`. The function goes on running: return after calling it.
   */
  rollback(): void;
  /** Whether {@link rollback} was called. */
  readonly rolledBack: boolean;
}

/** A write of a transaction as the engine commits it: decoded values, TTLs in ms. */
export type TransactionWrite =
  | {
      readonly op: 'set';
      readonly key: string;
      readonly value: unknown;
      readonly ttl?: number;
      readonly tags?: readonly string[];
    }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'incr'; readonly key: string; readonly by: number; readonly ttl?: number }
  | { readonly op: 'expire'; readonly key: string; readonly ttl: number };

/** What a transaction needs from its cache instance (the engine implements it). */
export interface TransactionPort {
  /** The TTL in ms a `set` with this `ttl` option stores (the instance default when omitted). */
  storeTtl(ttl: Duration | 'never' | undefined): number | undefined;
  tryLock(name: string, token: string, ttl: number): Promise<'acquired' | 'held' | 'failed'>;
  unlock(name: string, token: string): Promise<boolean>;
  /** Writes everything at once: tag deletions first, then the writes (atomically where the backend can). */
  commit(writes: readonly TransactionWrite[], deletedTags: readonly string[]): Promise<void>;
}

/** What the transaction holds for one key, in place of the backend's value. */
type Entry =
  /** Written: the value, with when it expires (`Date.now()` ms; `undefined`: never). */
  | { kind: 'value'; value: unknown; expiresAt?: number; tags?: readonly string[] }
  | { kind: 'deleted' }
  /** Counted on top of the stored counter: committed as an increment, so concurrent counts are not lost. */
  | { kind: 'counter'; base: number; by: number; ttl?: number; expire?: { ttl: number; at: number } }
  /** The stored value with a new TTL. */
  | { kind: 'expire'; ttl: number; at: number };

const LOCK_STEP_MS = 50;
const SERIALIZABLE_LOCK = 'tx:all';

/**
 * The state of one running transaction: what it wrote (an overlay in front of the backend that its own reads
 * see), the locks it holds, and how it ends. Commands reach it through the transaction step of the command
 * pipeline (lib/transactions/transaction-gate.ts), after the user's hooks, so keys are as stored.
 */
export class TransactionState implements Transaction {
  readonly id = randomUUID();
  private readonly entries = new Map<string, Entry>();
  private readonly deletedTags = new Set<string>();
  private readonly locks = new Set<string>();
  private ended = false;
  rolledBack = false;

  constructor(
    readonly mode: TransactionMode,
    private readonly port: TransactionPort,
    private readonly timeout: number,
    private readonly lockTtl: number,
  ) {}

  /** Whether commands still go to this transaction (it has not committed or rolled back yet). */
  get open(): boolean {
    return !this.ended;
  }

  rollback(): void {
    this.rolledBack = true;
    this.entries.clear();
    this.deletedTags.clear();
  }

  /** `serializable`: takes the instance's lock before the function runs. */
  async begin(): Promise<void> {
    if (this.mode === 'serializable') await this.lock(SERIALIZABLE_LOCK);
  }

  /** Commits (unless rolled back) and releases the locks, whatever happens. */
  async commit(): Promise<void> {
    this.ended = true;
    try {
      if (this.rolledBack) return;
      const writes = [...this.entries].flatMap(([key, entry]) => this.toWrites(key, entry));
      if (writes.length || this.deletedTags.size) await this.port.commit(writes, [...this.deletedTags]);
    } finally {
      await this.release();
    }
  }

  /** Discards everything (the function threw) and releases the locks. */
  async abort(): Promise<void> {
    this.ended = true;
    this.rollback();
    await this.release();
  }

  /** Handles a command made inside the transaction; commands it does not keep go straight on. */
  handle(call: CommandCall, next: NextCommand): Promise<unknown> {
    switch (call.command) {
      case 'get':
        return this.get(call.args[0], next);
      case 'getMany':
        return this.getMany(call.args[0], next);
      case 'exists':
        return this.exists(call.args[0], next);
      case 'getExpire':
        return this.getExpire(call.args[0], next);
      case 'scan':
        return Promise.resolve(this.scan(call.args[0], next));
      case 'set':
        return this.set(call.args[0], call.args[1], call.args[2], next);
      case 'setMany':
        return this.setMany(call.args[0], call.args[1]);
      case 'incr':
        return this.incr(call.args[0], call.args[1], call.args[2].ttl, next);
      case 'delete':
        return this.delete(call.args[0], next);
      case 'deleteMany':
        return this.deleteMany(call.args[0], next);
      case 'deleteMatch':
        return this.deleteMatch(call.args[0], next);
      case 'deleteTags':
        return this.deleteTags(call.args[0]);
      case 'expire':
        return this.expire(call.args[0], call.args[1], next);
      case 'clear':
        return Promise.reject(
          new TransactionError('clear() cannot run inside a transaction: it would not be undone by a rollback.'),
        );
      default:
        // Locks, rate limits, circuits, bitmaps, sets, raw values: not part of a transaction (README).
        return next(call);
    }
  }

  // --- Reads: the transaction's own writes first, then the backend ------------------------------------------
  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry?.kind === 'value' && entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      return { kind: 'deleted' };
    }
    return entry;
  }

  private async get(key: string, next: NextCommand): Promise<unknown> {
    const entry = this.live(key);
    if (!entry || entry.kind === 'expire') return next({ command: 'get', args: [key] });
    if (entry.kind === 'deleted') return MISS;
    if (entry.kind === 'counter') return entry.base + entry.by;
    return entry.value;
  }

  private async getMany(keys: readonly string[], next: NextCommand): Promise<unknown[]> {
    const stored = keys.filter((key) => {
      const entry = this.live(key);
      return !entry || entry.kind === 'expire';
    });
    const values = stored.length ? ((await next({ command: 'getMany', args: [stored] })) as unknown[]) : [];
    const fromBackend = new Map(stored.map((key, i) => [key, values[i]]));
    return Promise.all(keys.map((key) => (fromBackend.has(key) ? fromBackend.get(key) : this.get(key, next))));
  }

  private async exists(key: string, next: NextCommand): Promise<boolean> {
    const entry = this.live(key);
    if (!entry || entry.kind === 'expire') return next({ command: 'exists', args: [key] }) as Promise<boolean>;
    return entry.kind !== 'deleted';
  }

  private async getExpire(key: string, next: NextCommand): Promise<number> {
    const entry = this.live(key);
    const left = (at: number, ttl: number) => Math.max(0, at + ttl - Date.now());
    if (!entry) return next({ command: 'getExpire', args: [key] }) as Promise<number>;
    if (entry.kind === 'deleted') return -2;
    if (entry.kind === 'expire') return left(entry.at, entry.ttl);
    if (entry.kind === 'value') return entry.expiresAt === undefined ? -1 : Math.max(0, entry.expiresAt - Date.now());
    if (entry.expire) return left(entry.expire.at, entry.expire.ttl);
    return next({ command: 'getExpire', args: [key] }) as Promise<number>;
  }

  private async *scan(pattern: string, next: NextCommand): AsyncIterable<string> {
    const regexp = toRegExp(pattern);
    const seen = new Set<string>();
    for (const key of [...this.entries.keys()]) {
      const entry = this.live(key);
      seen.add(key);
      if (entry && entry.kind !== 'deleted' && regexp.test(key)) yield key;
    }
    for await (const key of (await next({ command: 'scan', args: [pattern] })) as AsyncIterable<string>) {
      if (!seen.has(key)) yield key;
    }
  }

  // --- Writes: kept until the commit --------------------------------------------------------------------------
  private async set(
    key: string,
    value: unknown,
    options: { ttl?: Duration | 'never'; exist?: boolean; tags?: readonly string[] },
    next: NextCommand,
  ): Promise<boolean> {
    const ttl = this.port.storeTtl(options.ttl);
    await this.writing(key);
    if (options.exist !== undefined && (await this.exists(key, next)) !== options.exist) return false;
    this.put(key, value, ttl, options.tags);
    return true;
  }

  private async setMany(
    entries: ReadonlyArray<readonly [string, unknown]>,
    options: { ttl?: Duration | 'never' },
  ): Promise<void> {
    const ttl = this.port.storeTtl(options.ttl);
    for (const [key] of entries) await this.writing(key);
    for (const [key, value] of entries) this.put(key, value, ttl);
  }

  private put(key: string, value: unknown, ttl: number | undefined, tags?: readonly string[]): void {
    this.entries.set(key, {
      kind: 'value',
      value,
      expiresAt: ttl === undefined ? undefined : Date.now() + ttl,
      tags: tags?.length ? tags : undefined,
    });
  }

  private async incr(key: string, by: number, ttlOption: Duration | undefined, next: NextCommand): Promise<number> {
    await this.writing(key);
    const ttl = ttlOption === undefined ? undefined : this.port.storeTtl(ttlOption);
    const entry = this.live(key);
    if (entry?.kind === 'counter') {
      entry.by += by;
      return entry.base + entry.by;
    }
    if (entry?.kind === 'value' || entry?.kind === 'deleted') {
      // Written or deleted in this transaction: the counter's whole value is known here.
      const base = entry.kind === 'value' ? integer(key, entry.value) : 0;
      if (entry.kind === 'value') entry.value = base + by;
      else this.put(key, by, ttl);
      return base + by;
    }
    const stored = await next({ command: 'get', args: [key] });
    const base = stored === MISS ? 0 : integer(key, stored);
    const expire = entry?.kind === 'expire' ? { ttl: entry.ttl, at: entry.at } : undefined;
    this.entries.set(key, { kind: 'counter', base, by, ttl, expire });
    return base + by;
  }

  private async delete(key: string, next: NextCommand): Promise<boolean> {
    await this.writing(key);
    const existed = await this.exists(key, next);
    this.entries.set(key, { kind: 'deleted' });
    return existed;
  }

  private async deleteMany(keys: readonly string[], next: NextCommand): Promise<number> {
    let count = 0;
    for (const key of new Set(keys)) if (await this.delete(key, next)) count++;
    return count;
  }

  /** The keys matching now, in this transaction and in the backend, are deleted at commit. */
  private async deleteMatch(pattern: string, next: NextCommand): Promise<number> {
    const keys: string[] = [];
    for await (const key of this.scan(pattern, next)) keys.push(key);
    return this.deleteMany(keys, next);
  }

  /**
   * The transaction's own writes under these tags are dropped now; keys stored before it are deleted by tag at
   * commit (their reads inside the transaction still answer them: see the README).
   */
  private async deleteTags(tags: readonly string[]): Promise<number> {
    for (const tag of tags) await this.writing(tag, 'tag');
    let count = 0;
    for (const [key, entry] of this.entries) {
      if (entry.kind === 'value' && entry.tags?.some((tag) => tags.includes(tag))) {
        this.entries.set(key, { kind: 'deleted' });
        count++;
      }
    }
    for (const tag of tags) this.deletedTags.add(tag);
    return count;
  }

  private async expire(key: string, ttl: Duration, next: NextCommand): Promise<boolean> {
    await this.writing(key);
    const ms = this.port.storeTtl(ttl) as number;
    const entry = this.live(key);
    if (entry?.kind === 'deleted') return false;
    if (entry?.kind === 'value') {
      entry.expiresAt = Date.now() + ms;
      return true;
    }
    if (entry?.kind === 'counter') {
      entry.expire = { ttl: ms, at: Date.now() };
      return true;
    }
    if (!(await next({ command: 'exists', args: [key] }))) return false;
    this.entries.set(key, { kind: 'expire', ttl: ms, at: Date.now() });
    return true;
  }

  // --- Commit and locks ------------------------------------------------------------------------------------
  private toWrites(key: string, entry: Entry): TransactionWrite[] {
    const now = Date.now();
    switch (entry.kind) {
      case 'deleted':
        return [{ op: 'delete', key }];
      case 'value': {
        // A value whose TTL ran out before the commit is gone, as it would be in the backend.
        if (entry.expiresAt !== undefined && entry.expiresAt <= now) return [{ op: 'delete', key }];
        const ttl = entry.expiresAt === undefined ? undefined : entry.expiresAt - now;
        return [{ op: 'set', key, value: entry.value, ttl, tags: entry.tags }];
      }
      case 'counter': {
        const writes: TransactionWrite[] = [{ op: 'incr', key, by: entry.by, ttl: entry.ttl }];
        if (entry.expire)
          writes.push({ op: 'expire', key, ttl: Math.max(1, entry.expire.at + entry.expire.ttl - now) });
        return writes;
      }
      case 'expire':
        return [{ op: 'expire', key, ttl: Math.max(1, entry.at + entry.ttl - now) }];
    }
  }

  /** Before a write: refuses writes after `rollback()`, and in `locked` mode takes the key's lock. */
  private async writing(name: string, what: 'key' | 'tag' = 'key'): Promise<void> {
    if (this.rolledBack) {
      throw new TransactionError(
        `Transaction ${this.id} was rolled back: a write after rollback() would be discarded too. Return after ` +
          `calling rollback(), or start a new transaction.`,
      );
    }
    if (this.mode === 'locked') await this.lock(`tx:${what}:${name}`);
  }

  private async lock(name: string): Promise<void> {
    if (this.locks.has(name)) return;
    const deadline = Date.now() + this.timeout;
    for (;;) {
      const attempt = await this.port.tryLock(name, this.id, this.lockTtl);
      // `failed`: the backend is down (logged); the commit will tell whether writing is possible.
      if (attempt !== 'held') {
        if (attempt === 'acquired') this.locks.add(name);
        return;
      }
      if (Date.now() >= deadline) {
        throw new LockedError(
          name,
          `Transaction ${this.id} (${this.mode}) waited ${this.timeout} ms for lock "${name}", held by another ` +
            `transaction: it is rolled back. A longer "timeout", or writing keys in the same order everywhere, ` +
            `avoids this.`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(LOCK_STEP_MS, Math.max(1, deadline - Date.now()))));
    }
  }

  private async release(): Promise<void> {
    const locks = [...this.locks];
    this.locks.clear();
    // A failed unlock is retried by the engine with this token (lost locks); nothing to do here.
    await Promise.all(locks.map((name) => this.port.unlock(name, this.id).catch(() => false)));
  }
}

function integer(key: string, value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d{1,16}$/.test(value)) return Number(value);
  throw new CacheValueError(`Cannot increment "${key}": the stored value is not an integer.`);
}
