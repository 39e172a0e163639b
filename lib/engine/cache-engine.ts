import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import type { Backend } from '../backends/backend.interface.js';
import type { RawReader } from '../backends/raw-reader.js';
import { CountingBackend } from '../backends/counting.backend.js';
import { MemoryBackend } from '../backends/memory.backend.js';
import { storesValues } from '../backends/stores-values.js';
import type { CircuitOp, CircuitSettings, CircuitState, WindowState } from '../backends/protect-types.js';
import { CloneCodec, INVALID, OUTDATED, StringCodec, type Codec } from '../codec/codec.js';
import { JsonCodec } from '../codec/json-codec.js';
import type { ResolvedCacheConfig } from '../config/cache-options.js';
import { parseDuration, parsePositiveDuration, type Duration } from '../duration.js';
import { CacheBackendError, CacheValueError, CashewsConfigError, CashewsError, LockedError } from '../errors.js';
import {
  assertCacheKey,
  assertCacheKeys,
  assertKeyType,
  isReservedKey,
  keyTypeError,
  protectedKey,
  reservedKeyError,
} from '../keys/protected-keys.js';
import { BurstLogger } from '../logging/burst-logger.js';
import { LostLocks } from '../lost-locks.js';
import { MISS, PENDING } from '../miss.js';
import type { CommandArgs, CommandCall, CommandName, CommandResults } from '../pipeline/command.js';
import type { CommandHook } from '../pipeline/command-hook.js';
import { CommandPipeline } from '../pipeline/command-pipeline.js';
import { InvalidateFurther } from '../pipeline/invalidate-further.js';
import { ReservedKeysGate } from '../pipeline/reserved-keys.gate.js';
import { RuntimeSwitch } from '../pipeline/runtime-switch.js';
import type { BatchWrite } from '../backends/batch-write.js';
import { applyInOrder } from '../transactions/apply-in-order.js';
import { TransactionGate } from '../transactions/transaction-gate.js';
import {
  TransactionState,
  type Transaction,
  type TransactionOptions,
  type TransactionPort,
} from '../transactions/transaction.js';
import { circuitPrimitive } from '../primitives/circuit.primitive.js';
import { fixedWindowPrimitive } from '../primitives/fixed-window.primitive.js';
import { incrPrimitive } from '../primitives/incr.primitive.js';
import type { Primitive } from '../primitives/primitive.js';
import { setLockPrimitive } from '../primitives/set-lock.primitive.js';
import { slidingWindowPrimitive } from '../primitives/sliding-window.primitive.js';
import { unlockPrimitive } from '../primitives/unlock.primitive.js';
import { checkTimerMs } from '../timer-duration.js';
import { countKeys } from '../backends/count-keys.js';
import { getBitsPrimitive } from '../primitives/get-bits.primitive.js';
import { getRawPrimitive } from '../primitives/get-raw.primitive.js';
import { getSizePrimitive } from '../primitives/get-size.primitive.js';
import { incrBitsPrimitive } from '../primitives/incr-bits.primitive.js';
import { setAddPrimitive } from '../primitives/set-add.primitive.js';
import { setPopPrimitive } from '../primitives/set-pop.primitive.js';
import { setRemovePrimitive } from '../primitives/set-remove.primitive.js';
import { sliceIncrPrimitive } from '../primitives/slice-incr.primitive.js';
import {
  checkBitSize,
  checkBy,
  checkCount,
  checkIndexes,
  checkMembers,
  checkRaw,
  checkSlice,
  checkTtl,
} from './command-checks.js';
import type { BackendCounters } from '../stats/backend-counters.js';
import { StatsCollector } from '../stats/collector.js';
import { observeBoth, type ExecutionObserver } from '../strategies/observer.js';
import type { BackendStats } from '../stats/types.js';
import type { ReadExpiry, StrategyCache } from '../strategies/strategy.js';
import { checkTags } from '../tags/tag-keys.js';
import { describeArgument } from '../config/describe-argument.js';
import { PrefixRouterBackend } from '../backends/prefix-router.backend.js';
import { storedKeyPrefix, unreachableRoutes } from '../pipeline/route-keys.js';

/** {@link CacheEngine.readNow}'s answer when the value cannot be known without waiting. */
export { PENDING };

/** The TTL of a stored value as commands take it (see `StoreTtl` in cache.service.ts). */
type StoreTtl = Duration | 'never';
type LockAttempt = CommandResults['setLock'];
/** The engine's own step of each command: what runs once the pipeline has passed the call on. */
type Steps = { [C in CommandName]: (...args: CommandArgs[C]) => Promise<CommandResults[C]> };

/**
 * The internals of one cache instance: codec and signing, safe mode, single flight, the fast read paths, the
 * command pipeline, usage counting (a {@link CountingBackend} around the backend) and the protective commands
 * strategies need. It is the port strategies run on ({@link StrategyCache}); users see the documented
 * `CacheService` facade, which delegates here. Not exported from the package.
 *
 * Every command goes `method → pipeline (run-time switch, user hooks) → step (codec, safe mode) → backend`; the
 * pipeline is skipped when it would change nothing (see {@link CommandPipeline.engaged}).
 */
export class CacheEngine implements StrategyCache {
  readonly codec: Codec;
  /** The backend wrapped in usage counting; every command reaches storage through it. */
  readonly storage: Backend;
  /** Usage statistics, fed by the executor (decorated calls) and the backend counters. */
  readonly collector = new StatsCollector();
  /** What the executor reports decorated calls to: the statistics, and a tracer when one was added ({@link traceTo}). */
  observer: ExecutionObserver = this.collector;
  /** Commands switched off at run time (`disable`, `disabling`, `enable=0`); the first step of the pipeline. */
  readonly runtime: RuntimeSwitch;
  readonly pipeline: CommandPipeline;
  /** Scopes in which reads delete their key first (`invalidateFurther`); the second step of the pipeline. */
  readonly further = new InvalidateFurther();
  /** The running transaction of each async context (`transaction`); the last step of the pipeline. */
  readonly transactions = new TransactionGate();
  private readonly counted?: CountingBackend;
  private readonly logger: Logger;
  private readonly failures: BurstLogger;
  /** Runs in flight per key, with when they started (`shareFor`). */
  private readonly inflight = new Map<string, { promise: Promise<unknown>; started: number }>();
  /** The last `getOrSet` TTL found valid: a caller passes the same one each time, and a hit then parses nothing. */
  private checkedTtl?: StoreTtl;
  /** Reads may be answered in process: `storage.getSync` (memory with the clone codec) or `storage.readLocal`. */
  private readonly sync: boolean;
  private readonly local: boolean;
  private closed?: Promise<void>;
  /** Per-process state of rate limits and circuits while the backend is unreachable (safe mode). */
  private fallback?: MemoryBackend;
  /** Locks possibly taken or kept without their holder knowing (lost reply, failed unlock); released when back. */
  private readonly lostLocks = new LostLocks((key, token) =>
    this.storage.run(unlockPrimitive, protectedKey(key), token),
  );

  constructor(
    readonly backend: Backend,
    readonly config: ResolvedCacheConfig,
    hooks: readonly CommandHook[] = config.hooks ?? [],
  ) {
    this.codec = codecFor(backend, config);
    this.logger = new Logger(config.name ? `Cashews:${config.name}` : 'Cashews');
    this.failures = new BurstLogger(this.logger);
    // A backend that counts per route (the prefix router) reports its own usage; any other is wrapped.
    if (backend.usage) this.storage = backend;
    else this.storage = this.counted = new CountingBackend(backend);
    // Memory values are live copies only with the clone codec; a synchronous read of strings gains nothing.
    this.sync = this.storage.getSync !== undefined && this.codec instanceof CloneCodec;
    this.local = this.storage.readLocal !== undefined;
    this.runtime = new RuntimeSwitch(config.enable);
    // After the hooks, before the transaction: keys are checked again as the hooks left them (see ReservedKeysGate).
    this.pipeline = new CommandPipeline([this.runtime, this.further], hooks, [
      new ReservedKeysGate(),
      this.transactions,
    ]);
    this.routeCallerKeys();
  }

  /** Adds a hook after the others; prefix routes keep following the caller's keys (see {@link routeCallerKeys}). */
  addHook(hook: CommandHook): void {
    this.pipeline.use(hook);
    this.routeCallerKeys();
  }

  /**
   * With prefix routing: the router strips what the hooks put in front of every key (`addPrefix`), so routes name
   * keys as the caller gives them, and a route the hooks still send elsewhere is a warning naming it, never a silent
   * reroute (see lib/pipeline/route-keys.ts). The check calls only hooks that do not declare their rewrite.
   */
  private routeCallerKeys(): void {
    const router = this.backend;
    if (!(router instanceof PrefixRouterBackend)) return;
    const hooks = this.pipeline.list();
    router.keysUnder(storedKeyPrefix(hooks));
    if (hooks.length === 0) return;
    const names = hooks.map((hook) => hook.name).join(', ');
    this.routesChecked = unreachableRoutes(hooks, router.prefixes, (key) => router.routePrefix(key)).then(
      (unreachable) => {
        for (const { prefix, stored } of unreachable) {
          this.logger.warn(
            `Prefix route "${prefix}" cannot be honoured: the hooks of this instance (${names}) turn its keys ` +
              `("${prefix}…") into keys such as "${stored}", which go to ` +
              `${router.routePrefix(stored) ? `the route "${router.routePrefix(stored)}"` : 'the main backend'}. ` +
              `Name the route as keys are stored after the hooks, or drop the hook that rewrites them.`,
          );
        }
      },
      (error: unknown) => {
        this.logger.warn(
          `Prefix routes could not be checked against the hooks of this instance (${names}): a hook failed on ` +
            `exists("<prefix>…") (${error instanceof Error ? error.message : String(error)}); routes follow ` +
            `keys as the hooks leave them, without their addPrefix.`,
        );
      },
    );
  }

  /** The last check of the prefix routes against the hooks (tests wait for its warnings). */
  routesChecked: Promise<void> = Promise.resolve();

  get name(): string | undefined {
    return this.config.name;
  }

  /** Reports decorated calls to `tracer` too (OpenTelemetry spans, see lib/telemetry/tracing.ts). */
  traceTo(tracer: ExecutionObserver): void {
    this.observer = observeBoth(this.collector, tracer);
  }

  get defaultTtl(): number | undefined {
    return this.config.ttl;
  }

  /** Sends a command through the pipeline when it is engaged, else straight to the engine's step. */
  private command<C extends CommandName>(command: C, args: CommandArgs[C]): Promise<CommandResults[C]> {
    const step = this.steps[command] as (...a: CommandArgs[C]) => Promise<CommandResults[C]>;
    if (!this.pipeline.engaged()) return step(...args);
    return this.pipeline.dispatch({ command, args } as CommandCall, this.terminal) as Promise<CommandResults[C]>;
  }

  /** The end of the pipeline: the engine's step of the call's command. */
  private readonly terminal = (call: CommandCall): Promise<unknown> =>
    (this.steps[call.command] as (...args: unknown[]) => Promise<unknown>)(...call.args);

  // --- Reads --------------------------------------------------------------------------------------------
  /**
   * Reads a key: the value, or {@link MISS}. The path every `@Cache` hit takes. With an `expiry` that wants the
   * remaining TTL (a hit a detection scope will record), a backend that cannot answer it synchronously is asked for
   * it in the same tick as the value: on Redis `GET` and `PTTL` leave in one write (auto-pipelining; one slot on
   * Cluster), so the hit costs one round trip, not two. With the pipeline engaged the TTL is left to a `getExpire`
   * command of its own, which the hooks see.
   */
  read(key: string, expiry?: ReadExpiry): Promise<unknown> {
    if (typeof key !== 'string') return Promise.reject(keyTypeError(key, 'get'));
    if (isReservedKey(key)) return Promise.reject(reservedKeyError(key, 'get'));
    if (this.pipeline.engaged()) return this.pipeline.dispatch({ command: 'get', args: [key] }, this.terminal);
    if (expiry?.noteExpire && !this.storage.getExpireSync && expiry.wantsExpire) return this.readExpiring(key, expiry);
    return this.readStep(key);
  }

  /**
   * {@link read} with the remaining TTL: `getExpire` sent right after `get`, before either answers. A failed
   * `getExpire` of a hit is what it would have been when asked after the hit (safe mode: -2, logged; else the call
   * fails); that of a miss is dropped unlogged (nothing is reported, and the failed `get` was logged).
   */
  private readExpiring(key: string, expiry: ReadExpiry): Promise<unknown> {
    const now = this.readInProcess(key);
    if (now !== PENDING) return Promise.resolve(now);
    const value = this.readRemote(key);
    // The TTL's outcome is noted as soon as it settles. Its reply travels with the value's (the same write, the same
    // reply), so the value's handler nearly always finds it noted and answers at once, without chaining a promise.
    let ttl: { readonly left: number } | { readonly error: unknown } | undefined;
    let settled: Promise<void>;
    try {
      settled = this.storage.getExpire(key).then(
        (left) => void (ttl = { left }),
        (error: unknown) => void (ttl = { error }),
      );
    } catch (error) {
      ttl = { error };
      settled = Promise.resolve();
    }
    const hit = (read: unknown): unknown => {
      const outcome = ttl as NonNullable<typeof ttl>;
      if ('error' in outcome) {
        this.fail('getExpire', outcome.error, false);
        expiry.noteExpire?.(key, -2);
      } else {
        expiry.noteExpire?.(key, outcome.left);
      }
      return read;
    };
    return value.then((read) => {
      if (read === MISS) return read;
      return ttl ? hit(read) : settled.then(() => hit(read));
    });
  }

  /**
   * The remaining TTL of `key` (as {@link getExpire}) when the backend answers it synchronously and nothing in the
   * pipeline must see the command; `undefined` otherwise (call {@link getExpire}).
   */
  expireNow(key: string): number | undefined {
    const sync = this.storage.getExpireSync;
    if (!sync || this.pipeline.engaged() || isReservedKey(key)) return undefined;
    try {
      return sync.call(this.storage, key);
    } catch {
      return undefined;
    }
  }

  /**
   * The value of `key` (or {@link MISS}) when it is known without waiting: a memory backend or a client-side
   * layer holding it, and nothing in the pipeline. {@link PENDING} otherwise: call {@link read}.
   */
  readNow(key: string): unknown {
    if (!this.sync && !this.local) return PENDING;
    // Anything but a plain string key is left to read(), which refuses it with the reason.
    if (this.pipeline.engaged() || typeof key !== 'string' || isReservedKey(key)) return PENDING;
    return this.readInProcess(key);
  }

  /**
   * A read that needs no round trip: memory (no async machinery, no promise of the backend's own), or a
   * client-side layer holding the key (decoded once per local entry). {@link PENDING} when only Redis can answer.
   */
  private readInProcess(key: string): unknown {
    if (this.sync) {
      // OUTDATED: an instance of a class redefined since it was stored, a miss as on Redis.
      // A method call, not a bound copy: it inlines into the caller.
      const raw = (this.storage.getSync as (key: string) => unknown)(key);
      const value = raw === undefined ? MISS : this.codec.decode(key, raw);
      return value === OUTDATED ? MISS : value;
    }
    if (this.local) {
      // A client-side layer that does not hold the key says MISS: the answer is then Redis's.
      const value = (this.storage.readLocal as NonNullable<Backend['readLocal']>)(key, this.decodeLocal);
      return value === MISS ? PENDING : value;
    }
    return PENDING;
  }

  private readStep(key: string): Promise<unknown> {
    const now = this.readInProcess(key);
    if (now !== PENDING) return Promise.resolve(now);
    return this.readRemote(key);
  }

  /** The backend's answer, decoded; a failure is a miss in safe mode. */
  private readRemote(key: string): Promise<unknown> {
    // Decoded where the reply arrives, when the backend can (a single Redis server): no promise hop of our own.
    const readWith = this.storage.readWith;
    if (readWith) return readWith.call(this.storage, key, this.remote);
    // One promise hop instead of an async wrapper: this is the Redis hit path.
    return this.storage.get(key).then(
      (raw) => this.decode(key, raw),
      (error: unknown) => {
        this.fail('get', error, false);
        return MISS;
      },
    );
  }

  getMany(keys: readonly string[]): Promise<unknown[]> {
    assertCacheKeys(keys, 'getMany');
    return this.command('getMany', [keys]);
  }

  exists(key: string): Promise<boolean> {
    assertCacheKey(key, 'exists');
    return this.command('exists', [key]);
  }

  getExpire(key: string): Promise<number> {
    assertCacheKey(key, 'getExpire');
    return this.command('getExpire', [key]);
  }

  scan(pattern: string): AsyncIterable<string> {
    assertCacheKey(pattern, 'scan');
    // The pipeline answers an iterable; iterating it is what reaches the backend.
    const keys = () => this.command('scan', [pattern]);
    return {
      async *[Symbol.asyncIterator]() {
        yield* await keys();
      },
    };
  }

  // --- Writes -------------------------------------------------------------------------------------------
  set(
    key: string,
    value: unknown,
    options: { ttl?: StoreTtl; exist?: boolean; tags?: readonly string[] } = {},
  ): Promise<boolean> {
    try {
      assertCacheKey(key, 'set');
      checkSetOptions(key, options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.command('set', [key, value, options]);
  }

  setMany(entries: ReadonlyArray<readonly [string, unknown]>, options: { ttl?: StoreTtl } = {}): Promise<void> {
    for (const [key] of entries) assertCacheKey(key, 'setMany');
    return this.command('setMany', [entries, options]);
  }

  incr(key: string, by = 1, options: { ttl?: Duration } = {}): Promise<number> {
    assertCacheKey(key, 'incr');
    if (!Number.isSafeInteger(by)) {
      throw new CacheValueError(
        `incr("${key}"): "by" must be a safe integer such as 1 or -1 (got ${String(by)}); counters hold integers ` +
          `only, so count fractions in smaller units (e.g. cents).`,
      );
    }
    return this.command('incr', [key, by, options]);
  }

  expire(key: string, ttl: Duration): Promise<boolean> {
    assertCacheKey(key, 'expire');
    parsePositiveDuration(ttl, 'ttl');
    return this.command('expire', [key, ttl]);
  }

  delete(key: string): Promise<boolean> {
    assertCacheKey(key, 'delete');
    return this.command('delete', [key]);
  }

  deleteMany(keys: readonly string[]): Promise<number> {
    assertCacheKeys(keys, 'deleteMany');
    return this.command('deleteMany', [keys]);
  }

  deleteMatch(pattern: string): Promise<number> {
    assertCacheKey(pattern, 'deleteMatch');
    return this.command('deleteMatch', [pattern]);
  }

  deleteTags(...tags: string[]): Promise<number> {
    if (tags.length === 0) return Promise.resolve(0);
    return this.command('deleteTags', [checkTags(tags, 'deleteTags')]);
  }

  ping(message?: string): Promise<string> {
    return this.command('ping', [message]);
  }

  clear(): Promise<void> {
    return this.command('clear', []);
  }

  // --- Compositions ---------------------------------------------------------------------------------------
  /** Runs `fn` once per key among concurrent callers of this process; later callers share its promise. */
  singleFlight<T>(key: string, fn: () => Promise<T>, shareFor?: number): Promise<T> {
    // A run inside a transaction sees (and stores) that transaction's writes: it is shared only within it.
    const tx = this.transactions.current();
    if (tx) key = `${tx.id}\n${key}`;
    const running = this.inflight.get(key);
    if (running && (shareFor === undefined || performance.now() - running.started < shareFor)) {
      return running.promise as Promise<T>;
    }
    const flight = { promise: undefined as unknown as Promise<T>, started: performance.now() };
    flight.promise = fn().finally(() => {
      if (this.inflight.get(key) === flight) this.inflight.delete(key);
    });
    this.inflight.set(key, flight);
    return flight.promise;
  }

  async getOrSet<T>(
    key: string,
    valueOrFactory: T | (() => T | Promise<T>),
    options: { ttl?: StoreTtl } = {},
  ): Promise<T> {
    assertKeyType(key, 'getOrSet');
    // Checked on a hit too: a TTL that is not a duration would otherwise pass until the first miss.
    if (options.ttl !== this.checkedTtl) {
      storeTtl(options.ttl, this.config.ttl);
      this.checkedTtl = options.ttl;
    }
    const stored = await this.read(key);
    if (stored !== MISS) return stored as T;
    return this.singleFlight(key, async () => {
      const value =
        typeof valueOrFactory === 'function' ? await (valueOrFactory as () => T | Promise<T>)() : valueOrFactory;
      await this.set(key, value, options);
      return value;
    });
  }

  async *getMatch<T>(pattern: string): AsyncIterable<[string, T]> {
    for await (const key of this.scan(pattern)) {
      const value = await this.read(key);
      if (value !== MISS) yield [key, value as T];
    }
  }

  // --- Transactions ----------------------------------------------------------------------------------------
  /**
   * Runs `fn` in a transaction: its writes are kept (and read back by its own reads) until `fn` resolves, then
   * committed together; discarded when it throws or calls `rollback()`. A transaction already running in this
   * async context is joined (its mode applies).
   */
  async transaction<T>(fn: (tx: Transaction) => T | Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const mode = options.mode ?? 'locked';
    if (!['fast', 'locked', 'serializable'].includes(mode)) {
      throw new CashewsConfigError(
        `Transaction mode "${String(mode)}" is not one of 'fast', 'locked' (default) or 'serializable'.`,
      );
    }
    const timeout = parseDuration(options.timeout ?? '10s', 'transaction timeout');
    const lockTtl = parsePositiveDuration(options.lockTtl ?? '1m', 'transaction lockTtl');
    const joined = this.transactions.current();
    if (joined) return joined.nested(() => fn(joined), mode);
    const state = new TransactionState(mode, this.transactionPort, timeout, lockTtl);
    let result: T;
    try {
      await state.begin();
      result = await this.transactions.run(state, async () => fn(state));
    } catch (error) {
      await state.abort();
      throw error;
    }
    await state.commit();
    return result;
  }

  /**
   * The answer of a command made now, as its caller gets it: inside a transaction, the transaction holds a write's
   * lock failure (it throws it at commit), so a write nobody awaits leaves no unhandled rejection.
   */
  held<T>(answer: Promise<T>): Promise<T> {
    const tx = this.transactions.current();
    return tx ? tx.hold(answer) : answer;
  }

  outsideTransaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.transactions.outside(fn);
  }

  private readonly transactionPort: TransactionPort = {
    storeTtl: (ttl) => storeTtl(ttl, this.config.ttl),
    encode: (key, value) => this.codec.encode(key, value),
    decode: (key, raw) => this.decode(key, raw),
    checkTags: (key, tags) => checkTags(tags, `set("${key}")`),
    readStrict: (key) => {
      const now = this.readInProcess(key);
      if (now !== PENDING) return Promise.resolve(now);
      return this.guard('get', undefined as unknown, () => this.storage.get(key), true).then((raw) =>
        this.decode(key, raw),
      );
    },
    // The steps, not the pipeline: a switched-off `lock` must not switch a transaction's isolation off.
    tryLock: (name, token, ttl) => this.steps.setLock(name, token, ttl),
    unlock: (name, token) => this.steps.unlock(name, token),
    commit: (writes, deletedTags) => this.commitWrites(writes, deletedTags),
  };

  /**
   * A transaction's commit: tag deletions, then every write at once through the backend's atomic `commit` when it
   * has one, else one by one. Always throws on failure, safe mode or not: a commit that did not happen must not
   * look like one that did.
   */
  private async commitWrites(batch: readonly BatchWrite[], deletedTags: readonly string[]): Promise<void> {
    await this.guard(
      'commit',
      undefined,
      async () => {
        if (deletedTags.length) await this.storage.deleteTags(deletedTags);
        if (batch.length === 0) return;
        if (this.storage.commit) await this.storage.commit(batch);
        else await applyInOrder(this.storage, batch);
      },
      true,
    );
  }

  // --- Locks --------------------------------------------------------------------------------------------
  /**
   * One lock attempt that tells a held lock (`'held'`) from a backend failure (`'failed'`, logged in safe
   * mode), so callers can choose to proceed unlocked rather than wait on a backend that is down.
   */
  tryLock(key: string, token: string, ttl: number): Promise<LockAttempt> {
    return this.command('setLock', [key, token, ttl]);
  }

  unlock(key: string, token: string): Promise<boolean> {
    return this.command('unlock', [key, token]);
  }

  async isLocked(key: string, options: { wait?: Duration; step?: Duration } = {}): Promise<boolean> {
    const wait = options.wait === undefined ? 0 : parseDuration(options.wait, 'wait');
    const step = waitStep(options.step);
    const deadline = Date.now() + wait;
    for (;;) {
      if (!(await this.command('isLocked', [key]))) return false;
      if (Date.now() >= deadline) return true;
      await sleep(Math.min(step, Math.max(1, deadline - Date.now())));
    }
  }

  async lock<T>(
    key: string,
    ttl: Duration,
    fn: () => T | Promise<T>,
    options: { wait?: boolean | Duration; step?: Duration; holdUntil?: (result: T) => Promise<void> | undefined } = {},
  ): Promise<T> {
    const ttlMs = parsePositiveDuration(ttl, 'ttl');
    const wait =
      options.wait === false
        ? 0
        : options.wait === undefined || options.wait === true
          ? ttlMs
          : parseDuration(options.wait, 'wait');
    const step = waitStep(options.step);
    const token = randomUUID();
    const deadline = Date.now() + wait;
    for (;;) {
      const attempt = await this.tryLock(key, token, ttlMs);
      if (attempt === 'failed') return fn();
      if (attempt === 'acquired') break;
      if (Date.now() >= deadline) throw new LockedError(key);
      await sleep(Math.min(step, Math.max(1, deadline - Date.now())));
    }
    let held: Promise<void> | undefined;
    try {
      const result = await fn();
      held = options.holdUntil?.(result);
      return result;
    } finally {
      if (held) void held.then(() => this.unlock(key, token)).catch(() => undefined);
      else await this.unlock(key, token);
    }
  }

  // --- Protection state -----------------------------------------------------------------------------------
  fixedWindow(key: string, limit: number, period: number, banTtl: number): Promise<WindowState> {
    return this.command('fixedWindow', [key, limit, period, banTtl]);
  }

  slidingWindow(key: string, limit: number, period: number): Promise<WindowState> {
    return this.command('slidingWindow', [key, limit, period]);
  }

  circuit(key: string, op: CircuitOp, settings: CircuitSettings): Promise<CircuitState> {
    return this.command('circuit', [key, op, settings]);
  }

  readState(name: string): Promise<unknown> {
    return this.command('readState', [name]);
  }

  async countHit(key: string, ttl: number | undefined): Promise<number | undefined> {
    try {
      return await this.incr(key, 1, { ttl });
    } catch (error) {
      // A counter overwritten with something else: the value is recomputed, and storing it resets the counter.
      if (error instanceof CacheValueError) {
        this.failures.warn(`${error.message} (the value it counts is recomputed)`);
        return undefined;
      }
      // incr throws in safe mode too (no count would be honest); an uncounted hit is a miss, logged as any failure.
      if (!(error instanceof CacheBackendError) || !this.config.safe) throw error;
      this.failures.warn(`${error.message} (safe mode: hit of ${key} not counted, answered as a miss)`);
      return undefined;
    }
  }

  async readBits(key: string, indexes: readonly number[]): Promise<number[] | undefined> {
    try {
      return await this.command('getBits', [key, indexes, { size: 1, strict: true }]);
    } catch (error) {
      if (!(error instanceof CacheBackendError)) throw error;
      // Zeros would answer "not a member" for everyone: the filter steps aside and the method runs.
      this.failures.warn(`${error.message} (Bloom filter ${key} unreadable: the method runs)`);
      return undefined;
    }
  }

  async addBits(key: string, indexes: readonly number[], ttl: number | undefined, strict: boolean): Promise<void> {
    try {
      await this.command('incrBits', [key, indexes, ttl === undefined ? { size: 1 } : { size: 1, ttl }]);
    } catch (error) {
      if (strict || !(error instanceof CacheBackendError)) throw error;
      this.failures.warn(`${error.message} (Bloom filter ${key} did not learn this answer)`);
    }
  }

  writeState(name: string, value: unknown, ttl: number): Promise<boolean> {
    return this.command('writeState', [name, value, ttl]);
  }

  resetProtection(pattern: string): Promise<number> {
    return this.command('resetProtection', [pattern]);
  }

  // --- Bitmaps, sliding counters, sets, key count and size, raw values (issue #13) --------------------------
  // Arguments are checked here, before the pipeline: nothing malformed reaches a hook or a backend.
  getBits(key: string, indexes: readonly number[], options: { size?: number } = {}): Promise<number[]> {
    assertCacheKey(key, 'getBits');
    checkIndexes('getBits', key, indexes, checkBitSize('getBits', key, options.size));
    return this.command('getBits', [key, indexes, options]);
  }

  incrBits(
    key: string,
    indexes: readonly number[],
    options: { size?: number; by?: number; ttl?: Duration } = {},
  ): Promise<number[]> {
    assertCacheKey(key, 'incrBits');
    checkIndexes('incrBits', key, indexes, checkBitSize('incrBits', key, options.size));
    checkBy('incrBits', key, options.by);
    checkTtl(options.ttl);
    return this.command('incrBits', [key, indexes, options]);
  }

  sliceIncr(key: string, start: number, end: number, options: { max: number; ttl?: Duration }): Promise<number> {
    assertCacheKey(key, 'sliceIncr');
    checkSlice(key, start, end, options?.max);
    checkTtl(options.ttl);
    return this.command('sliceIncr', [key, start, end, options]);
  }

  setAdd(key: string, members: readonly string[], options: { ttl?: Duration } = {}): Promise<number> {
    assertCacheKey(key, 'setAdd');
    checkMembers('setAdd', key, members);
    checkTtl(options.ttl);
    return this.command('setAdd', [key, members, options]);
  }

  setRemove(key: string, members: readonly string[]): Promise<number> {
    assertCacheKey(key, 'setRemove');
    checkMembers('setRemove', key, members);
    return this.command('setRemove', [key, members]);
  }

  setPop(key: string, count = 1): Promise<string[]> {
    assertCacheKey(key, 'setPop');
    checkCount(key, count);
    return this.command('setPop', [key, count]);
  }

  getKeysCount(): Promise<number> {
    return this.command('getKeysCount', []);
  }

  getSize(key: string): Promise<number> {
    assertCacheKey(key, 'getSize');
    return this.command('getSize', [key]);
  }

  getRaw(key: string): Promise<string | undefined> {
    assertCacheKey(key, 'getRaw');
    return this.command('getRaw', [key]);
  }

  setRaw(key: string, raw: string, options: { ttl?: StoreTtl } = {}): Promise<boolean> {
    assertCacheKey(key, 'setRaw');
    checkRaw(key, raw);
    storeTtl(options.ttl, this.config.ttl);
    return this.command('setRaw', [key, raw, options]);
  }

  // --- The engine's step of each command: codec, safe mode, backend ----------------------------------------
  private readonly steps: Steps = {
    get: (key) => this.readStep(key),
    getMany: async (keys) => {
      const raws = await this.guard('getMany', [] as unknown[], () => this.storage.getMany(keys));
      return keys.map((key, i) => this.decode(key, raws[i]));
    },
    set: async (key, value, options) => {
      const raw = this.codec.encode(key, value);
      const ttl = storeTtl(options.ttl, this.config.ttl);
      if (options.tags?.length) {
        const tags = checkTags(options.tags, `set("${key}")`);
        return this.guard('set', false, () => this.storage.setTagged(key, raw, tags, { ttl, exist: options.exist }));
      }
      return this.guard('set', false, () => this.storage.set(key, raw, { ttl, exist: options.exist }));
    },
    setMany: async (entries, options) => {
      const raws = entries.map(([key, value]) => [key, this.codec.encode(key, value)] as const);
      const ttl = storeTtl(options.ttl, this.config.ttl);
      await this.guard('setMany', undefined, () => this.storage.setMany(raws, ttl));
    },
    // Always throws on backend failure, even in safe mode: no number would be honest.
    incr: (key, by, options) =>
      this.guard('incr', NaN, () => this.storage.run(incrPrimitive, key, by, ttlOf(options.ttl)), true),
    delete: (key) => this.guard('delete', false, () => this.storage.delete(key)),
    deleteMany: (keys) => this.guard('deleteMany', 0, () => this.storage.deleteMany(keys)),
    deleteMatch: (pattern) => this.guard('deleteMatch', 0, () => this.storage.deleteMatch(pattern)),
    deleteTags: (tags) => this.guard('deleteTags', 0, () => this.storage.deleteTags(tags)),
    scan: (pattern) => Promise.resolve(this.safeScan(pattern)),
    expire: (key, ttl) =>
      this.guard('expire', false, () => this.storage.expire(key, parsePositiveDuration(ttl, 'ttl'))),
    getExpire: (key) => this.guard('getExpire', -2, () => this.storage.getExpire(key)),
    exists: (key) => this.guard('exists', false, () => this.storage.exists(key)),
    ping: (message) => this.guard('ping', '', () => this.storage.ping(message), true),
    clear: () => this.guard('clear', undefined, () => this.storage.clear()),
    setLock: async (key, token, ttl) => {
      try {
        return (await this.storage.run(setLockPrimitive, protectedKey(key), token, ttl)) ? 'acquired' : 'held';
      } catch (error) {
        // The SET NX may have run with its reply lost: release it with our token once the backend is back. A usage
        // error (a backend declining the primitive: UnsupportedPrimitiveError) means it never ran.
        if (!(error instanceof CashewsError) || error instanceof CacheBackendError)
          this.lostLocks.remember(key, token, ttl);
        this.fail('setLock', error, false);
        return 'failed';
      }
    },
    unlock: (key, token) =>
      this.guard('unlock', false, () =>
        this.storage.run(unlockPrimitive, protectedKey(key), token).catch((error: unknown) => {
          this.lostLocks.remember(key, token);
          throw error;
        }),
      ),
    isLocked: (key) => this.guard('exists', false, () => this.storage.exists(protectedKey(key)), false),
    fixedWindow: (key, limit, period, banTtl) =>
      this.protect('fixedWindow', fixedWindowPrimitive, protectedKey(key), limit, period, banTtl),
    slidingWindow: (key, limit, period) =>
      this.protect('slidingWindow', slidingWindowPrimitive, protectedKey(key), limit, period),
    circuit: (key, op, settings) => this.protect('circuit', circuitPrimitive, protectedKey(key), op, settings),
    readState: (name) => {
      const key = protectedKey(name);
      return this.guard('get', undefined as unknown, () => this.storage.get(key)).then((raw) => this.decode(key, raw));
    },
    writeState: (name, value, ttl) => {
      const key = protectedKey(name);
      const raw = this.codec.encode(key, value);
      return this.guard('set', false, () => this.storage.set(key, raw, { ttl }));
    },
    resetProtection: async (pattern) => {
      const target = protectedKey(pattern);
      const reset = (backend: Backend) =>
        pattern.includes('*') ? backend.deleteMatch(target) : backend.delete(target).then(Number);
      const removed = await this.guard('resetProtection', 0, () => reset(this.storage));
      return removed + (this.fallback ? await reset(this.fallback) : 0);
    },
    // Bitmaps, sliding counters, sets, key count and size, raw values (issue #13). Counters throw on backend
    // failure even in safe mode, as incr does: no number made up on the spot would be honest.
    getBits: (key, indexes, options) =>
      this.guard(
        'getBits',
        indexes.map(() => 0),
        () => this.storage.run(getBitsPrimitive, key, indexes, options.size ?? 1),
        options.strict === true,
      ),
    incrBits: (key, indexes, options) =>
      this.guard(
        'incrBits',
        [],
        () => this.storage.run(incrBitsPrimitive, key, indexes, options.size ?? 1, options.by ?? 1, ttlOf(options.ttl)),
        true,
      ),
    sliceIncr: (key, start, end, options) =>
      this.guard(
        'sliceIncr',
        NaN,
        () => this.storage.run(sliceIncrPrimitive, key, start, end, options.max, ttlOf(options.ttl)),
        true,
      ),
    setAdd: (key, members, options) =>
      this.guard('setAdd', 0, () => this.storage.run(setAddPrimitive, key, members, ttlOf(options.ttl))),
    setRemove: (key, members) => this.guard('setRemove', 0, () => this.storage.run(setRemovePrimitive, key, members)),
    setPop: (key, count) => this.guard('setPop', [] as string[], () => this.storage.run(setPopPrimitive, key, count)),
    getKeysCount: () => this.guard('getKeysCount', 0, () => countKeys(this.storage)),
    getSize: (key) => this.guard('getSize', -1, () => this.storage.run(getSizePrimitive, key)),
    getRaw: (key) =>
      this.guard('getRaw', undefined as string | undefined, () => this.storage.run(getRawPrimitive, key)),
    setRaw: (key, raw, options) =>
      this.guard('setRaw', false, () => this.storage.set(key, raw, { ttl: storeTtl(options.ttl, this.config.ttl) })),
  };

  private async *safeScan(pattern: string): AsyncIterable<string> {
    try {
      yield* this.storage.scan(pattern);
    } catch (error) {
      this.fail('scan', error, false);
    }
  }

  /**
   * Safe mode of the protective primitives: no answer made up on the spot would be honest (allowing every
   * call would switch rate limits and circuits off silently), so a backend failure falls back to state in
   * this process's memory, logged once per burst. Without safe mode the failure throws.
   */
  private protect<A extends readonly unknown[], R>(
    op: string,
    primitive: Primitive<A, R>,
    key: string,
    ...args: A
  ): Promise<R> {
    // Not `async` (a rate-limited call comes here every time): the backend's promise, with the fallback attached.
    let pending: Promise<R>;
    try {
      pending = this.storage.run(primitive, key, ...args);
    } catch (error) {
      pending = Promise.reject(error);
    }
    return pending.catch((error: unknown) => {
      this.fail(op, error, false, 'per-process memory state used instead');
      this.fallback ??= new MemoryBackend({ size: 10_000, checkInterval: 0 });
      return this.fallback.run(primitive, key, ...args);
    });
  }

  /** How {@link readRemote} reads through `readWith`: the value decoded, a failure a miss in safe mode (logged). */
  private readonly remote: RawReader<unknown> = {
    value: (key, raw) => this.decode(key, raw),
    failed: (_key, error) => {
      this.fail('get', error, false);
      return MISS;
    },
  };

  /** Decoder handed to a local layer: an invalid value is a local miss, logged when the Redis path decodes it. */
  private readonly decodeLocal = (key: string, raw: unknown): unknown => {
    const value = this.codec.decode(key, raw);
    return value === INVALID || value === OUTDATED ? MISS : value;
  };

  private decode(key: string, raw: unknown): unknown {
    if (raw === undefined) return MISS;
    const value = this.codec.decode(key, raw);
    if (value === OUTDATED) return MISS;
    if (value === INVALID) {
      this.failures.warn(
        `Value at "${key}" is unsigned, tampered with or not in the cashews format; it is treated as a miss.`,
      );
      return MISS;
    }
    return value;
  }

  /** Safe mode in one place: backend failures become `fallback` (logged), or a {@link CacheBackendError}. */
  private async guard<T>(op: string, fallback: T, run: () => Promise<T>, alwaysThrow = false): Promise<T> {
    try {
      return await run();
    } catch (error) {
      this.fail(op, error, alwaysThrow);
      return fallback;
    }
  }

  private fail(op: string, error: unknown, alwaysThrow: boolean, outcome = 'answered as a miss'): void {
    // Our own errors (a non-integer incr, an unstorable value) are usage errors, not backend failures.
    if (error instanceof CashewsError && !(error instanceof CacheBackendError)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    const wrapped = new CacheBackendError(`Cache backend ${this.config.displayUrl} failed on ${op}: ${reason}`, {
      cause: error,
    });
    if (alwaysThrow || !this.config.safe) throw wrapped;
    this.failures.warn(`${wrapped.message} (safe mode: ${outcome})`);
  }

  // --- Stats and lifecycle ----------------------------------------------------------------------------------
  /** Usage per backend: one entry, or one per prefix route. */
  backendStats(): BackendStats[] {
    const of = (prefix: string, url: string, c: BackendCounters): BackendStats => ({
      prefix,
      url,
      commands: c.commands,
      errors: c.errors,
      hits: c.hits,
      misses: c.misses,
    });
    if (this.counted) return [of('', this.config.displayUrl, this.counted.counters)];
    const urls = new Map((this.config.prefixes ?? []).map((route) => [route.prefix, route.config.displayUrl]));
    return (this.storage.usage?.() ?? []).map(({ prefix, counters }) =>
      of(prefix, prefix ? (urls.get(prefix) ?? '') : this.config.displayUrl, counters),
    );
  }

  close(): Promise<void> {
    this.collector.close();
    this.lostLocks.close();
    this.closed ??= this.backend.close();
    return this.closed;
  }
}

/**
 * Memory keeps live copies (the clone codec) unless values must be signed or stored as plain JSON; Redis stores
 * strings: the cashews format (signed, compressed when configured) or plain JSON (`codec=json`). A custom backend
 * is treated as memory only when it declares `stores: 'values'` (see lib/backends/stores-values.ts).
 */
function codecFor(backend: Backend, config: ResolvedCacheConfig): Codec {
  if (config.codec === 'json') return new JsonCodec();
  if (storesValues(backend) && !config.secret) return new CloneCodec();
  const compression = config.compress ? { algorithm: config.compress, min: config.compressMin } : undefined;
  return new StringCodec(config.secret, compression);
}

function ttlOf(ttl: Duration | undefined): number | undefined {
  return ttl === undefined ? undefined : parsePositiveDuration(ttl, 'ttl');
}

/** `set`'s options beyond their names (checked by CacheService): `exist` and `tags`, before any hook or backend. */
function checkSetOptions(key: string, options: { exist?: unknown; tags?: readonly string[] }): void {
  const exist = options.exist;
  if (exist !== undefined && typeof exist !== 'boolean') {
    throw new CashewsConfigError(
      `set(): "exist" must be true (only replace a stored key) or false (only store a new key); got ` +
        `${describeArgument(exist)}.`,
    );
  }
  if (options.tags !== undefined) checkTags(options.tags, `set("${key}")`);
}

/** The TTL in ms of a stored value (`undefined`: no expiry); see `StoreTtl`. */
function storeTtl(ttl: StoreTtl | undefined, fallback: number | undefined): number | undefined {
  if (ttl === undefined) return fallback;
  if (ttl === 'never') return undefined;
  try {
    return parsePositiveDuration(ttl, 'ttl');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CashewsConfigError(
      `${reason} For a key that never expires write { ttl: 'never' }; omit ttl for the instance's default ` +
        `TTL (${fallback === undefined ? 'none configured: no expiry' : `${fallback} ms`}).`,
    );
  }
}

/** How long a waiter of `lock`/`isLocked` sleeps between checks (ms, default 50): at least 1, at most a timer's wait. */
function waitStep(step: Duration | undefined): number {
  return Math.max(1, checkTimerMs(parseDuration(step ?? 50, 'step'), 'step'));
}
