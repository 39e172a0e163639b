import { AsyncLocalStorage } from 'node:async_hooks';
import { CashewsConfigError } from '../errors.js';
import { MISS } from '../miss.js';
import { circuitPrimitive } from '../primitives/circuit.primitive.js';
import { fixedWindowPrimitive } from '../primitives/fixed-window.primitive.js';
import { getBitsPrimitive } from '../primitives/get-bits.primitive.js';
import { incrBitsPrimitive } from '../primitives/incr-bits.primitive.js';
import { sliceIncrPrimitive } from '../primitives/slice-incr.primitive.js';
import { slidingWindowPrimitive } from '../primitives/sliding-window.primitive.js';
import type { CommandCall, NextCommand } from './command.js';
import type { PipelineGate } from './command-pipeline.js';

/**
 * What can be switched off at run time (`cache.disable(...)`, `cache.disabling(...)`):
 * - `'get'`: reads miss (`get` answers its default, `getMany` defaults, `exists` false, `getExpire` -2);
 * - `'set'`: writes are dropped (`set`/`expire` answer `false`, `setMany` does nothing, `getOrSet` computes
 *   without storing);
 * - `'delete'`: `delete`, `deleteMany`, `deleteMatch`, `deleteTags` and `@Invalidate` do nothing (answer 0/false);
 * - `'lock'`: locks (`lock`, `setLock`, `@Locked`) are granted without being taken, `isLocked` answers `false`;
 * - `'limit'`: rate limits (`@RateLimit`, `@SlidingRateLimit`, `fixedWindow`, `slidingWindow`) always allow;
 * - `'circuit'`: circuits (`@CircuitBreaker`) stay closed and `@PerfDegradation` never trips.
 *
 * A decorator is skipped altogether (the method runs as if undecorated, the call is not counted in the stats)
 * when everything it uses is off: result-storing decorators (`@Cache`, `@Early`, `@Soft`, `@HitCache`,
 * `@Failover`) when both `'get'` and `'set'` are; `@Locked` with `'lock'`; rate limits with `'limit'`;
 * `@CircuitBreaker`/`@PerfDegradation` with `'circuit'`; `@Invalidate` with `'delete'`.
 */
export type SwitchCommand = 'get' | 'set' | 'delete' | 'lock' | 'limit' | 'circuit';

const BITS: Readonly<Record<SwitchCommand, number>> = { get: 1, set: 2, delete: 4, lock: 8, limit: 16, circuit: 32 };
/** What "caching off" means when no command is named: nothing read, nothing stored. */
const CACHING = BITS.get | BITS.set;
const ALL = 63;

/** Bits of each pipeline command that a switch turns off (commands not listed are never switched off). */
export const SWITCHED_OPS: Readonly<Record<string, number>> = {
  get: BITS.get,
  readState: BITS.circuit,
  writeState: BITS.circuit,
  getMany: BITS.get,
  exists: BITS.get,
  getExpire: BITS.get,
  set: BITS.set,
  setMany: BITS.set,
  expire: BITS.set,
  delete: BITS.delete,
  deleteMany: BITS.delete,
  deleteMatch: BITS.delete,
  deleteTags: BITS.delete,
  unlock: BITS.lock,
  setLock: BITS.lock,
  isLocked: BITS.lock,
  fixedWindow: BITS.limit,
  slidingWindow: BITS.limit,
  circuit: BITS.circuit,
  // Bitmaps, sliding counters, sets, key count and size, raw values (issue #13)
  getBits: BITS.get,
  getKeysCount: BITS.get,
  getSize: BITS.get,
  getRaw: BITS.get,
  incrBits: BITS.set,
  sliceIncr: BITS.set,
  setAdd: BITS.set,
  setRaw: BITS.set,
  setRemove: BITS.delete,
  setPop: BITS.delete,
};

/**
 * What a switched-off command answers: reads miss, writes and deletes do nothing, locks are granted without
 * being taken, windows allow and circuits stay closed (each primitive says what "off" means for it).
 */
function offAnswer(call: CommandCall): unknown {
  switch (call.command) {
    case 'get':
    case 'readState':
      return MISS;
    case 'getMany':
      return call.args[0].map(() => MISS);
    case 'getExpire':
      return -2;
    case 'deleteMany':
    case 'deleteMatch':
    case 'deleteTags':
      return 0;
    case 'setMany':
      return undefined;
    case 'setLock':
      return 'acquired';
    case 'unlock':
      return true;
    case 'fixedWindow':
      return fixedWindowPrimitive.off(call.args[1], call.args[2], call.args[3]);
    case 'slidingWindow':
      return slidingWindowPrimitive.off(call.args[1], call.args[2]);
    case 'circuit':
      return circuitPrimitive.off(call.args[1], call.args[2]);
    // Bitmaps, sliding counters, sets, key count and size, raw values (issue #13)
    case 'getBits':
      return getBitsPrimitive.off(call.args[1], call.args[2].size ?? 1);
    case 'incrBits':
      return incrBitsPrimitive.off(call.args[1], call.args[2].size ?? 1, call.args[2].by ?? 1, undefined);
    case 'sliceIncr':
      return sliceIncrPrimitive.off(call.args[1], call.args[2], call.args[3].max, undefined);
    case 'setAdd':
    case 'setRemove':
    case 'getKeysCount':
      return 0;
    case 'setPop':
      return [];
    case 'getSize':
      return -1;
    case 'getRaw':
      return undefined;
    default:
      // set, expire, delete, exists, isLocked, writeState
      return false;
  }
}

/** Bits a decorator needs switched off to be skipped (see {@link SwitchCommand}); 0: never skipped. */
const LAYER_BITS: Readonly<Record<string, number>> = {
  locked: BITS.lock,
  'rate-limit': BITS.limit,
  'sliding-rate-limit': BITS.limit,
  'circuit-breaker': BITS.circuit,
  'perf-degradation': BITS.circuit,
  invalidate: BITS.delete,
  // A filter whose bits read as zeros would answer false for every member: with reads off the method runs.
  bloom: BITS.get,
};

function maskOf(commands: readonly unknown[], method: string, none: number): number {
  if (commands.length === 0) return none;
  let mask = 0;
  for (const command of commands) {
    const bit = typeof command === 'string' && Object.hasOwn(BITS, command) ? BITS[command as SwitchCommand] : 0;
    if (!bit) {
      throw new CashewsConfigError(
        `cache.${method}(): unknown command ${JSON.stringify(command) ?? String(command)}; accepted: ` +
          `${Object.keys(BITS)
            .map((name) => `'${name}'`)
            .join(', ')} (none: 'get' and 'set', i.e. caching).`,
      );
    }
    mask |= bit;
  }
  return mask;
}

/**
 * The run-time switch of one cache instance: commands turned off for the whole process (`disable`/`enable`)
 * or for everything called inside one function (`disabling`, task-local through AsyncLocalStorage: a
 * concurrent request outside it is unaffected), and every command for good on an instance created with
 * `enable=0`. It is the first step of the command pipeline (a {@link PipelineGate}), answering switched-off
 * commands before any hook runs; the executor asks it whether a decorator is to be skipped. Until a command is
 * switched off, that costs a field read per command.
 */
export class RuntimeSwitch implements PipelineGate {
  readonly name = 'runtimeSwitch';
  /** Commands off for the whole process; `enable=0` starts with all of them, for good. */
  private global: number;
  /** What {@link enable} cannot turn back on (`enable=0`). */
  private readonly fixed: number;
  private readonly scope = new AsyncLocalStorage<number>();
  /** Set once a scope was entered: until then nobody pays for an AsyncLocalStorage read. */
  private scoped = false;
  /** Tells the pipeline this gate may be active (see {@link PipelineGate.watch}). */
  private wake: () => void = () => undefined;

  /** @param enabled `false` for an instance created with `enable=0`: every command off, for good. */
  constructor(enabled = true) {
    this.fixed = enabled ? 0 : ALL;
    this.global = this.fixed;
  }

  active(): boolean {
    return this.current() !== 0;
  }

  watch(wake: () => void): void {
    this.wake = wake;
    if (this.global !== 0) wake();
  }

  handle(call: CommandCall, next: NextCommand): Promise<unknown> {
    return this.offFor(call.command) ? Promise.resolve(offAnswer(call)) : next(call);
  }

  /** Turns `commands` off for the whole process; none named: `'get'` and `'set'` (caching). */
  disable(commands: readonly SwitchCommand[]): void {
    this.global |= maskOf(commands, 'disable', CACHING);
    this.wake();
  }

  /** Turns `commands` back on for the whole process; none named: every command. Scopes are not affected. */
  enable(commands: readonly SwitchCommand[]): void {
    this.global = (this.global & ~maskOf(commands, 'enable', ALL)) | this.fixed;
  }

  /** Runs `fn` with `commands` (none named: `'get'` and `'set'`) off for every call made inside it. Nests. */
  run<T>(commands: readonly SwitchCommand[], fn: () => T | Promise<T>): Promise<T> {
    const mask = maskOf(commands, 'disabling', CACHING) | (this.scope.getStore() ?? 0);
    this.scoped = true;
    this.wake();
    return this.scope.run(mask, async () => fn());
  }

  /** Bits switched off for the current call (process-wide and scoped). */
  current(): number {
    return this.scoped ? this.global | (this.scope.getStore() ?? 0) : this.global;
  }

  /** Whether `command` is off for the current call (none named: whether caching — `get` or `set` — is). */
  isOff(command?: SwitchCommand): boolean {
    const bits = this.current();
    if (bits === 0) return false;
    return command === undefined ? (bits & CACHING) !== 0 : (bits & maskOf([command], 'isDisabled', 0)) !== 0;
  }

  /** Whether `op` (a command name of {@link SWITCHED_OPS}, or bits) is off for the current call. */
  offFor(op: string | number): boolean {
    const bits = this.current();
    if (bits === 0) return false;
    const need = typeof op === 'number' ? op : (SWITCHED_OPS[op] ?? 0);
    return (bits & need) !== 0;
  }

  /** Whether a decorator is to be skipped for the current call: everything it uses is off. */
  skips(layer: { readonly strategy: string; readonly storesResult: boolean }): boolean {
    const bits = this.current();
    if (bits === 0) return false;
    const need = layer.storesResult ? CACHING : (LAYER_BITS[layer.strategy] ?? 0);
    return need !== 0 && (bits & need) === need;
  }
}
