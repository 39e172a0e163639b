import { randomUUID } from 'node:crypto';
import { CacheBackendError, LockedError, TransactionError } from '../errors.js';
import { counterValue } from '../primitives/incr.primitive.js';
import type { BatchWrite } from '../backends/batch-write.js';
import { toRegExp } from '../keys/pattern.js';
import { MISS } from '../miss.js';
import type { CommandCall, NextCommand } from '../pipeline/command.js';
import type { Duration } from '../duration.js';
import { Savepoint } from './savepoint.js';

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

/** What a transaction needs from its cache instance (the engine implements it). */
export interface TransactionPort {
  /** The TTL in ms a `set` with this `ttl` option stores (the instance default when omitted). */
  storeTtl(ttl: Duration | 'never' | undefined): number | undefined;
  /**
   * The value as the backend will store it (codec, signing): done when the value is written, so that a value the
   * codec refuses fails its `set`, and later changes to the caller's object do not change what is committed.
   */
  encode(key: string, value: unknown): unknown;
  /** A stored form back to a value; `MISS` when it cannot be read. */
  decode(key: string, raw: unknown): unknown;
  /** Validated tags of a `set` (throws as `set` would). */
  checkTags(key: string, tags: readonly string[]): readonly string[];
  /** The stored value of `key` (MISS when missing); a backend failure throws, safe mode or not. */
  readStrict(key: string): Promise<unknown>;
  /** A lock attempt that no hook and no run-time switch can answer in its place. */
  tryLock(name: string, token: string, ttl: number): Promise<'acquired' | 'held' | 'failed'>;
  unlock(name: string, token: string): Promise<boolean>;
  /** Writes everything at once: tag deletions first, then the writes (atomically where the backend can). */
  commit(writes: readonly BatchWrite[], deletedTags: readonly string[]): Promise<void>;
}

/** What the transaction holds for one key, in place of the backend's value. */
type Entry =
  /** Written: the stored form, with when it expires (`Date.now()` ms; `undefined`: never). */
  | { kind: 'value'; raw: unknown; expiresAt?: number; tags?: readonly string[]; exist?: boolean }
  | { kind: 'deleted' }
  /**
   * Counted on top of the stored counter: committed as an increment, so concurrent counts are not lost. `created`:
   * the counter did not exist when read (its `ttl` then starts at `at`).
   */
  | {
      kind: 'counter';
      base: number;
      by: number;
      ttl?: number;
      created: boolean;
      at: number;
      expire?: { ttl: number; at: number };
    }
  /** The stored value with a new TTL. */
  | { kind: 'expire'; ttl: number; at: number };

const LOCK_STEP_MS = 50;
const SERIALIZABLE_LOCK = 'tx:all';
const STRENGTH: Record<TransactionMode, number> = { fast: 0, locked: 1, serializable: 2 };

/**
 * The state of one running transaction: what it wrote (an overlay in front of the backend that its own reads
 * see), the locks it holds, and how it ends. Commands reach it through the transaction step of the command
 * pipeline (lib/transactions/transaction-gate.ts), after the user's hooks, so keys are as stored.
 */
export class TransactionState implements Transaction {
  readonly id = randomUUID();
  private readonly entries = new Map<string, Entry>();
  private readonly deletedTags = new Set<string>();
  /** Locks held, and locks being taken (concurrent writes of one key in this transaction share the attempt). */
  private readonly locks = new Map<string, Promise<void>>();
  /** Commands of this transaction not answered yet: the commit waits for them. */
  private readonly pending = new Set<Promise<unknown>>();
  /** A failure that dooms the transaction even if the caller caught it (a lock not obtained). */
  private failure?: unknown;
  /** Every lock failure of this transaction: it fails at commit with the first, whoever awaited the writes. */
  private readonly lockFailures = new WeakSet<object>();
  private ended = false;
  rolledBack = false;

  constructor(
    public mode: TransactionMode,
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

  /**
   * Runs `fn` as a nested transaction: it shares this one's writes and locks, but what it wrote is undone when it
   * throws (a savepoint, see {@link Savepoint}: writes made meanwhile outside it, by concurrent code of the outer
   * transaction, are kept). A stricter mode than this transaction's raises it from here on (its locks are taken).
   */
  async nested<T>(fn: () => T | Promise<T>, mode: TransactionMode): Promise<T> {
    if (STRENGTH[mode] > STRENGTH[this.mode]) {
      this.mode = mode;
      if (mode === 'serializable') await this.lock(SERIALIZABLE_LOCK);
      else for (const key of [...this.entries.keys()]) await this.lock(`tx:key:${key}`);
    }
    const { savepoint, result } = Savepoint.run<Entry, T>(this, async () => fn());
    try {
      const value = await result;
      savepoint.keep(this.entries);
      return value;
    } catch (error) {
      // Its commands still in flight write first, so that their writes are undone too.
      await this.settle();
      if (!this.rolledBack) savepoint.undo(this.entries, this.deletedTags);
      throw error;
    }
  }

  /** Every write of an entry comes here: the current savepoint, if any, logs what it replaces. */
  private write(key: string, entry: Entry): void {
    Savepoint.current<Entry>(this)?.wrote(key, this.entries.get(key), entry);
    this.entries.set(key, entry);
  }

  /** Commits (unless rolled back) and releases the locks, whatever happens. */
  async commit(): Promise<void> {
    await this.settle();
    this.ended = true;
    try {
      if (this.failure !== undefined) throw this.failure;
      if (this.rolledBack) return;
      const writes = [...this.entries].flatMap(([key, entry]) => this.toWrites(key, entry));
      if (writes.length || this.deletedTags.size) await this.port.commit(writes, [...this.deletedTags]);
    } finally {
      await this.release();
    }
  }

  /** Discards everything (the function threw) and releases the locks. */
  async abort(): Promise<void> {
    await this.settle();
    this.ended = true;
    this.rollback();
    await this.release();
  }

  /** Waits for this transaction's commands still in flight (a write waiting for its lock), whatever they answer. */
  private async settle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  /**
   * The promise a caller of a write gets: it rejects as `answer` does, but a lock failure is this transaction's to
   * throw (at commit), so a write nobody awaits (`void cache.set(...)`) leaves no unhandled rejection, which would
   * end a Node process. Any other failure stays the caller's alone.
   */
  hold<T>(answer: Promise<T>): Promise<T> {
    const caller: Promise<T> = answer.then(undefined, (error: unknown) => {
      if (typeof error === 'object' && error !== null && this.lockFailures.has(error)) caller.catch(() => undefined);
      throw error;
    });
    return caller;
  }

  /** Handles a command made inside the transaction; commands it does not keep go straight on. */
  handle(call: CommandCall, next: NextCommand): Promise<unknown> {
    const answer = this.dispatch(call, next);
    this.pending.add(answer);
    const done = () => this.pending.delete(answer);
    answer.then(done, done);
    return answer;
  }

  private dispatch(call: CommandCall, next: NextCommand): Promise<unknown> {
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
        return this.incr(call.args[0], call.args[1], call.args[2].ttl);
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
  /**
   * The key's entry as the backend will hold it once committed: one whose TTL, set by this transaction (a value's
   * own, an `expire()`, a counter's `expire()`), has run out reads as deleted.
   */
  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined && expiredAt(entry) <= Date.now()) return { kind: 'deleted' };
    return entry;
  }

  private async get(key: string, next: NextCommand): Promise<unknown> {
    const entry = this.live(key);
    if (!entry || entry.kind === 'expire') return next({ command: 'get', args: [key] });
    if (entry.kind === 'deleted') return MISS;
    if (entry.kind === 'counter') return entry.base + entry.by;
    return this.port.decode(key, entry.raw);
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
    // A counter this transaction creates: the TTL it is created with, or none.
    if (entry.created) return entry.ttl === undefined ? -1 : left(entry.at, entry.ttl);
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
    const raw = this.port.encode(key, value);
    const tags = options.tags?.length ? this.port.checkTags(key, options.tags) : undefined;
    await this.writing(key);
    if (options.exist !== undefined && (await this.exists(key, next)) !== options.exist) return false;
    // Checked again at commit (SET NX/XX): someone else may create or delete the key meanwhile.
    const exist = options.exist !== undefined && !this.entries.has(key) ? options.exist : undefined;
    this.put(key, raw, ttl, tags, exist);
    return true;
  }

  private async setMany(
    entries: ReadonlyArray<readonly [string, unknown]>,
    options: { ttl?: Duration | 'never' },
  ): Promise<void> {
    const ttl = this.port.storeTtl(options.ttl);
    const raws = entries.map(([key, value]) => [key, this.port.encode(key, value)] as const);
    for (const [key] of entries) await this.writing(key);
    for (const [key, raw] of raws) this.put(key, raw, ttl);
  }

  private put(key: string, raw: unknown, ttl: number | undefined, tags?: readonly string[], exist?: boolean): void {
    this.write(key, {
      kind: 'value',
      raw,
      expiresAt: ttl === undefined ? undefined : Date.now() + ttl,
      tags,
      exist,
    });
  }

  /**
   * Takes no lock: increments commute, and a counter is committed as an increment. Written or deleted in this
   * transaction (under its lock), the counter's whole value is known here and committed as a value.
   */
  private async incr(key: string, by: number, ttlOption: Duration | undefined): Promise<number> {
    this.refuseAfterRollback();
    const ttl = ttlOption === undefined ? undefined : this.port.storeTtl(ttlOption);
    let entry = this.live(key);
    if (!entry || entry.kind === 'expire') {
      const stored = await this.port.readStrict(key);
      // Another command of this transaction may have written the key while this one read it.
      entry = this.live(key);
      if (!entry || entry.kind === 'expire') {
        const base = stored === MISS ? 0 : counterValue(key, stored);
        const expire = entry?.kind === 'expire' ? { ttl: entry.ttl, at: entry.at } : undefined;
        this.write(key, { kind: 'counter', base, by, ttl, created: stored === MISS, at: Date.now(), expire });
        return base + by;
      }
    }
    if (entry.kind === 'counter') {
      // A new entry rather than a change of this one: a savepoint restores the entry it replaced.
      this.write(key, { ...entry, by: entry.by + by });
      return entry.base + entry.by + by;
    }
    const base = entry.kind === 'value' ? counterValue(key, this.port.decode(key, entry.raw)) : 0;
    const expiresAt = entry.kind === 'value' ? entry.expiresAt : ttl === undefined ? undefined : Date.now() + ttl;
    const tags = entry.kind === 'value' ? entry.tags : undefined;
    this.write(key, { kind: 'value', raw: this.port.encode(key, base + by), expiresAt, tags });
    return base + by;
  }

  private async delete(key: string, next: NextCommand): Promise<boolean> {
    await this.writing(key);
    const existed = await this.exists(key, next);
    this.write(key, { kind: 'deleted' });
    return existed;
  }

  private async deleteMany(keys: readonly string[], next: NextCommand): Promise<number> {
    let count = 0;
    for (const key of new Set(keys)) if (await this.delete(key, next)) count++;
    return count;
  }

  /** The keys matching now, in this transaction and in the backend, are deleted at commit. */
  private async deleteMatch(pattern: string, next: NextCommand): Promise<number> {
    this.refuseAfterRollback();
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
        this.write(key, { kind: 'deleted' });
        count++;
      }
    }
    const savepoint = Savepoint.current<Entry>(this);
    for (const tag of tags) {
      if (this.deletedTags.has(tag)) continue;
      savepoint?.deletedTag(tag);
      this.deletedTags.add(tag);
    }
    return count;
  }

  private async expire(key: string, ttl: Duration, next: NextCommand): Promise<boolean> {
    const ms = this.port.storeTtl(ttl) as number;
    await this.writing(key);
    const entry = this.live(key);
    if (entry?.kind === 'deleted') return false;
    if (entry?.kind === 'value') {
      this.write(key, { ...entry, expiresAt: Date.now() + ms });
      return true;
    }
    if (entry?.kind === 'counter') {
      this.write(key, { ...entry, expire: { ttl: ms, at: Date.now() } });
      return true;
    }
    if (!(await next({ command: 'exists', args: [key] }))) return false;
    this.write(key, { kind: 'expire', ttl: ms, at: Date.now() });
    return true;
  }

  // --- Commit and locks ------------------------------------------------------------------------------------
  private toWrites(key: string, entry: Entry): BatchWrite[] {
    const now = Date.now();
    switch (entry.kind) {
      case 'deleted':
        return [{ op: 'delete', key }];
      case 'value': {
        // A value whose TTL ran out before the commit is gone, as it would be in the backend.
        if (entry.expiresAt !== undefined && entry.expiresAt <= now) return [{ op: 'delete', key }];
        const ttl = entry.expiresAt === undefined ? undefined : entry.expiresAt - now;
        return [{ op: 'set', key, raw: entry.raw, ttl, tags: entry.tags, exist: entry.exist }];
      }
      case 'counter': {
        // Counted, then given a TTL that ran out before the commit: gone, as it would be in the backend.
        if (expiredAt(entry) <= now) return [{ op: 'delete', key }];
        const writes: BatchWrite[] = [{ op: 'incr', key, by: entry.by, ttl: entry.ttl }];
        if (entry.expire)
          writes.push({ op: 'expire', key, ttl: Math.max(1, entry.expire.at + entry.expire.ttl - now) });
        return writes;
      }
      case 'expire':
        // The new TTL ran out before the commit: the key is gone by now, as it would be in the backend.
        if (expiredAt(entry) <= now) return [{ op: 'delete', key }];
        return [{ op: 'expire', key, ttl: entry.at + entry.ttl - now }];
    }
  }

  private refuseAfterRollback(): void {
    if (this.rolledBack) {
      throw new TransactionError(
        `Transaction ${this.id} was rolled back: a write after rollback() would be discarded too. Return after ` +
          `calling rollback(), or start a new transaction.`,
      );
    }
  }

  /** Before a write: refuses writes after `rollback()`, and in `locked` mode takes the key's lock. */
  private async writing(name: string, what: 'key' | 'tag' = 'key'): Promise<void> {
    this.refuseAfterRollback();
    if (this.mode === 'locked') await this.lock(`tx:${what}:${name}`);
  }

  /** Takes `name` once per transaction; concurrent writes of one key share the attempt. */
  private lock(name: string): Promise<void> {
    let taking = this.locks.get(name);
    if (!taking) {
      taking = this.acquire(name);
      this.locks.set(name, taking);
      // A lock not obtained dooms the transaction, even if its caller catches the error.
      taking.catch((error: unknown) => {
        this.locks.delete(name);
        // Not after the end: the commit (or abort) has already looked at `failure`.
        if (this.ended) return;
        this.failure ??= error;
        if (typeof error === 'object' && error !== null) this.lockFailures.add(error);
      });
    }
    return taking;
  }

  private async acquire(name: string): Promise<void> {
    const deadline = Date.now() + this.timeout;
    for (;;) {
      const attempt = await this.port.tryLock(name, this.id, this.lockTtl);
      if (attempt === 'acquired') return;
      if (attempt === 'failed') {
        // Without its lock the transaction cannot keep its promise: it fails rather than run unprotected.
        throw new CacheBackendError(
          `Transaction ${this.id} (${this.mode}) could not take lock "${name}": the backend failed (see the log).`,
        );
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
    const names = [...this.locks.keys()];
    const attempts = [...this.locks.values()];
    this.locks.clear();
    const held = await Promise.allSettled(attempts);
    // A failed unlock is retried by the engine with this token (lost locks); nothing more to do here.
    await Promise.all(
      names.map((name, i) =>
        held[i].status === 'fulfilled' ? this.port.unlock(name, this.id).catch(() => false) : false,
      ),
    );
  }
}

/**
 * When an entry's TTL set in the transaction runs out (`Date.now()` ms), `Infinity` when it has none: a value's
 * `expiresAt`, an `expire()` entry's new TTL, a counter's `expire()`. A counter created with `incr`'s `ttl` is not
 * counted: that TTL starts when the commit creates it.
 */
function expiredAt(entry: Entry): number {
  switch (entry.kind) {
    case 'value':
      return entry.expiresAt ?? Infinity;
    case 'expire':
      return entry.at + entry.ttl;
    case 'counter':
      return entry.expire ? entry.expire.at + entry.expire.ttl : Infinity;
    default:
      return Infinity;
  }
}
