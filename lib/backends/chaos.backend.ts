import { CacheBackendError, CashewsConfigError } from '../errors.js';
import { BUILTIN_PRIMITIVES } from '../primitives/builtin.js';
import type { Primitive } from '../primitives/primitive.js';
import type { Backend } from './backend.interface.js';

/** Options of {@link ChaosBackend}. Shares are probabilities per command, from 0 to 1. */
export interface ChaosBackendOptions {
  /**
   * Seed of the pseudo-random draws (an integer; default 1): the same seed and the same sequence of commands
   * inject the same faults, so a failing run can be replayed.
   */
  seed?: number;
  /** Share of commands rejected before they reach the wrapped backend (default 0). */
  failureRate?: number;
  /**
   * Share of commands that run on the wrapped backend and are then rejected as if their reply was lost
   * (default 0): the write happened, the caller cannot know it. `failureRate + dropRate` is at most 1.
   */
  dropRate?: number;
  /** Delay before each command, in ms: a number, or `[min, max]` for a delay drawn between the two (default 0). */
  latency?: number | readonly [min: number, max: number];
  /**
   * The commands faults and latency apply to (default: all of them): names of {@link Backend} methods (`get`,
   * `set`, `scan`…; `run` for every primitive) or of the built-in primitives (`incr`, `setLock`, `unlock`,
   * `fixedWindow`, `slidingWindow`, `circuit`, `getBits`, `incrBits`, `sliceIncr`, `setAdd`, `setRemove`, `setPop`,
   * `getRaw`, `getSize`). Other commands go straight through, counted.
   */
  commands?: readonly string[];
}

/** What a {@link ChaosBackend} did with the commands it was given. */
export interface ChaosCounts {
  /** Commands passed to the wrapped backend (dropped ones included: they ran). */
  readonly ran: number;
  /** Commands rejected before reaching the wrapped backend. */
  readonly failed: number;
  /** Commands that ran and whose answer was then replaced by a rejection. */
  readonly dropped: number;
}

const METHODS = [
  'get',
  'getMany',
  'set',
  'setMany',
  'delete',
  'deleteMany',
  'scan',
  'deleteMatch',
  'expire',
  'getExpire',
  'exists',
  'ping',
  'clear',
  'run',
  'setTagged',
  'deleteTags',
  'countKeys',
] as const;
const PRIMITIVES = BUILTIN_PRIMITIVES.map((primitive) => primitive.name);
const COMMANDS = new Set<string>([...METHODS, ...PRIMITIVES]);
const OPTIONS = new Set(['seed', 'failureRate', 'dropRate', 'latency', 'commands']);

type Tally = { -readonly [K in keyof ChaosCounts]: number };

/** What the draw decided for one command. */
interface Fault {
  readonly kind: 'pass' | 'fail' | 'drop';
  readonly delay: number;
}
const PASS: Fault = { kind: 'pass', delay: 0 };

/**
 * Wraps any backend and injects faults per command, drawn from a seeded pseudo-random sequence: failures (the
 * command is rejected before it runs), latency, and lost replies (the command runs on the wrapped backend, then
 * the call is rejected as if the reply never came back: what a timeout or a dropped connection does to a write).
 * Injected faults reject with {@link CacheBackendError}, so safe mode treats them like a real outage. For fault
 * tests: {@link counts} tells what actually ran, so a test can check that nothing was counted twice or lost.
 *
 * Every read goes through the faults: the wrapped backend's synchronous and local reads (`getSync`,
 * `readLocal`) are not offered. Connecting and closing are never faulted.
 * @example
 * ```ts
 * const config = resolveCacheConfig('redis://127.0.0.1:6379/0');
 * const chaos = new ChaosBackend(new RedisBackend(config), { seed: 7, dropRate: 0.2, latency: [0, 20] });
 * const cache = new CacheService(chaos, config);
 * await chaos.connect();
 * await Promise.allSettled(Array.from({ length: 100 }, () => cache.incr('visits')));
 * console.log(chaos.counts('incr')); // { ran: 100, failed: 0, dropped: … }: 'visits' holds 100, lost replies included
 * ```
 */
export class ChaosBackend implements Backend {
  readonly kind: Backend['kind'];
  readonly stores?: Backend['stores'];
  readonly seed: number;
  readonly usage?: Backend['usage'];
  /** Present when the wrapped backend counts its keys; faulted like any command. */
  readonly countKeys?: () => Promise<number>;
  private readonly failureRate: number;
  private readonly dropRate: number;
  private readonly latency: readonly [number, number];
  private readonly only?: ReadonlySet<string>;
  private state: number;
  private readonly total: Tally = { ran: 0, failed: 0, dropped: 0 };
  private readonly tally = new Map<string, Tally>();

  constructor(
    readonly inner: Backend,
    options: ChaosBackendOptions = {},
  ) {
    const checked = checkOptions(options);
    this.kind = inner.kind;
    this.stores = inner.stores;
    this.seed = checked.seed;
    this.state = checked.seed >>> 0;
    this.failureRate = checked.failureRate;
    this.dropRate = checked.dropRate;
    this.latency = checked.latency;
    this.only = checked.commands && new Set(checked.commands);
    const usage = inner.usage;
    if (usage) this.usage = () => usage.call(inner);
    const countKeys = inner.countKeys;
    if (countKeys) this.countKeys = () => this.call(['countKeys'], () => countKeys.call(inner));
  }

  /**
   * What was done with the commands named `command` (a method name, a primitive's name, or `run` for every
   * primitive), or with every command when none is named.
   */
  counts(command?: string): ChaosCounts {
    if (command === undefined) return { ...this.total };
    return { ...(this.tally.get(command) ?? { ran: 0, failed: 0, dropped: 0 }) };
  }

  connect(): Promise<void> {
    return this.inner.connect();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  get(key: string): Promise<unknown> {
    return this.call(['get'], () => this.inner.get(key));
  }

  getMany(keys: readonly string[]): Promise<unknown[]> {
    return this.call(['getMany'], () => this.inner.getMany(keys));
  }

  set(key: string, raw: unknown, options?: { ttl?: number; exist?: boolean }): Promise<boolean> {
    return this.call(['set'], () => this.inner.set(key, raw, options));
  }

  setMany(entries: ReadonlyArray<readonly [string, unknown]>, ttl?: number): Promise<void> {
    return this.call(['setMany'], () => this.inner.setMany(entries, ttl));
  }

  delete(key: string): Promise<boolean> {
    return this.call(['delete'], () => this.inner.delete(key));
  }

  deleteMany(keys: readonly string[]): Promise<number> {
    return this.call(['deleteMany'], () => this.inner.deleteMany(keys));
  }

  /** A lost reply of a scan: every key was yielded, then the iteration fails. */
  async *scan(pattern: string): AsyncIterable<string> {
    const names = ['scan'];
    const fault = this.draw(names);
    await this.before(names, fault);
    yield* this.inner.scan(pattern);
    this.after(names, fault);
  }

  deleteMatch(pattern: string): Promise<number> {
    return this.call(['deleteMatch'], () => this.inner.deleteMatch(pattern));
  }

  expire(key: string, ttl: number): Promise<boolean> {
    return this.call(['expire'], () => this.inner.expire(key, ttl));
  }

  getExpire(key: string): Promise<number> {
    return this.call(['getExpire'], () => this.inner.getExpire(key));
  }

  exists(key: string): Promise<boolean> {
    return this.call(['exists'], () => this.inner.exists(key));
  }

  ping(message?: string): Promise<string> {
    return this.call(['ping'], () => this.inner.ping(message));
  }

  clear(): Promise<void> {
    return this.call(['clear'], () => this.inner.clear());
  }

  run<A extends readonly unknown[], R>(primitive: Primitive<A, R>, key: string, ...args: A): Promise<R> {
    return this.call(['run', primitive.name], () => this.inner.run(primitive, key, ...args));
  }

  setTagged(
    key: string,
    raw: unknown,
    tags: readonly string[],
    options?: { ttl?: number; exist?: boolean },
  ): Promise<boolean> {
    return this.call(['setTagged'], () => this.inner.setTagged(key, raw, tags, options));
  }

  deleteTags(tags: readonly string[]): Promise<number> {
    return this.call(['deleteTags'], () => this.inner.deleteTags(tags));
  }

  /** `names`: the command, then for a primitive its own name (counted under both). */
  private async call<T>(names: readonly string[], command: () => Promise<T>): Promise<T> {
    // Drawn before any await: concurrent calls draw in the order they were made, so a seed replays a run.
    const fault = this.draw(names);
    await this.before(names, fault);
    const result = await command();
    this.after(names, fault);
    return result;
  }

  private draw(names: readonly string[]): Fault {
    const only = this.only;
    if (only && !names.some((name) => only.has(name))) return PASS;
    const roll = this.random();
    const [min, max] = this.latency;
    const delay = min === max ? min : Math.round(min + this.random() * (max - min));
    const kind = roll < this.failureRate ? 'fail' : roll < this.failureRate + this.dropRate ? 'drop' : 'pass';
    return { kind, delay };
  }

  /** Waits the drawn latency, then rejects an injected failure or counts the command as run. */
  private async before(names: readonly string[], fault: Fault): Promise<void> {
    if (fault.delay > 0) await new Promise((resolve) => setTimeout(resolve, fault.delay));
    if (fault.kind === 'fail') {
      for (const tally of this.tallies(names)) tally.failed++;
      throw new CacheBackendError(`ChaosBackend: injected failure of ${names.at(-1)} (the command did not run).`);
    }
    for (const tally of this.tallies(names)) tally.ran++;
  }

  /** Rejects a command that ran as if its reply was lost. */
  private after(names: readonly string[], fault: Fault): void {
    if (fault.kind !== 'drop') return;
    for (const tally of this.tallies(names)) tally.dropped++;
    throw new CacheBackendError(`ChaosBackend: reply to ${names.at(-1)} lost (the command ran).`);
  }

  /** The tallies one command counts in: the total, and each of its names. */
  private tallies(names: readonly string[]): Tally[] {
    return [
      this.total,
      ...names.map((name) => {
        let tally = this.tally.get(name);
        if (!tally) {
          tally = { ran: 0, failed: 0, dropped: 0 };
          this.tally.set(name, tally);
        }
        return tally;
      }),
    ];
  }

  /** A 32-bit mixing generator: uniform in [0, 1), fully decided by the seed. */
  private random(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }
}

interface CheckedOptions {
  seed: number;
  failureRate: number;
  dropRate: number;
  latency: readonly [number, number];
  commands?: readonly string[];
}

function checkOptions(options: ChaosBackendOptions): CheckedOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new CashewsConfigError(
      `ChaosBackend: options must be an object such as { failureRate: 0.1, latency: [0, 20] } (got ${show(options)}).`,
    );
  }
  for (const name of Object.keys(options)) {
    if (!OPTIONS.has(name)) {
      throw new CashewsConfigError(`ChaosBackend: unknown option "${name}"; accepted: ${[...OPTIONS].join(', ')}.`);
    }
  }
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed)) {
    throw new CashewsConfigError(`ChaosBackend: "seed" must be an integer such as 42 (got ${show(seed)}).`);
  }
  const failureRate = share('failureRate', options.failureRate);
  const dropRate = share('dropRate', options.dropRate);
  if (failureRate + dropRate > 1) {
    throw new CashewsConfigError(
      `ChaosBackend: "failureRate" + "dropRate" must be at most 1, a command either fails, loses its reply or ` +
        `passes (got ${failureRate} + ${dropRate}).`,
    );
  }
  return { seed, failureRate, dropRate, latency: latency(options.latency), commands: commands(options.commands) };
}

function share(name: string, value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new CashewsConfigError(
      `ChaosBackend: "${name}" must be a share of commands from 0 to 1, such as 0.1 for one in ten (got ${show(value)}).`,
    );
  }
  return value;
}

function latency(value: unknown): readonly [number, number] {
  if (value === undefined) return [0, 0];
  const ms = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  if (ms(value)) return [value, value];
  if (Array.isArray(value) && value.length === 2 && ms(value[0]) && ms(value[1]) && value[0] <= value[1]) {
    return [value[0], value[1]];
  }
  throw new CashewsConfigError(
    `ChaosBackend: "latency" must be a number of milliseconds (>= 0) such as 20, or a [min, max] pair with ` +
      `0 <= min <= max such as [0, 50] (got ${show(value)}).`,
  );
}

function commands(value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  const accepted = `names of Backend methods (${METHODS.join(', ')}) or of primitives (${PRIMITIVES.join(', ')})`;
  if (!Array.isArray(value)) {
    throw new CashewsConfigError(
      `ChaosBackend: "commands" must be an array of command names, such as ['get', 'incr']: ${accepted} ` +
        `(got ${show(value)}).`,
    );
  }
  for (const name of value) {
    if (typeof name !== 'string' || !COMMANDS.has(name)) {
      throw new CashewsConfigError(
        `ChaosBackend: unknown command ${show(name)} in "commands"; accepted: ${accepted} ('run' covers every ` +
          `primitive, those you define included).`,
      );
    }
  }
  return value as string[];
}

function show(value: unknown): string {
  if (typeof value === 'string') return `"${value}"`;
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`;
  if (typeof value !== 'object' || value === null) return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
