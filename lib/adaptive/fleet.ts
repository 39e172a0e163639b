import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { COUNT_FIELDS, emptyCounts, foldWindow, GAP_BUCKETS, type Counts } from './counts.js';
import { decide, initialState, type TunerState } from './decide.js';
import { observe } from './observations.js';
import type { AdaptiveBounds } from './types.js';

/**
 * What fleet sharing needs from the backend: counters, plain values, protection state and a lock, as every cache
 * instance has them (`StrategyCache` satisfies it). A missing value reads as `miss`. The fleet's decision is
 * protection state (`readState`/`writeState`, under the reserved prefix): no `deleteMatch`, `@Invalidate` pattern or
 * request directive (`Cache-Control: no-cache`, `Clear-Site-Data`) can reach it and reset the fleet's decision.
 */
export interface FleetStore {
  incr(key: string, by?: number, options?: { ttl?: number }): Promise<number>;
  read(key: string): Promise<unknown>;
  readState(name: string): Promise<unknown>;
  writeState(name: string, value: unknown, ttl: number): Promise<boolean>;
  tryLock(key: string, token: string, ttl: number): Promise<'acquired' | 'held' | 'failed'>;
  unlock(key: string, token: string): Promise<boolean>;
}

/** The fleet's view of one method, stored as one value: its smoothed counts and its decision state. */
export interface FleetState {
  readonly window: number;
  readonly smoothed: Counts;
  readonly tuner: TunerState;
}

/** Windows a pushed window stays in the backend: long enough for the late and for the decider. */
const KEEP_WINDOWS = 4;
/** How a process that lost the decider's lock waits for the decision: reads `READS` times, `READ_STEP` ms apart. */
const READS = 20;
const READ_STEP = 25;

/** The backend key of one counter of one window. */
function fieldKey(namespace: string, index: number, field: string): string {
  return `${namespace}:w:${index}:${field}`;
}

/** The names of every counter of a window: the scalars, then `g0`… the gap histogram. */
const FIELDS: readonly string[] = [...COUNT_FIELDS, ...Array.from({ length: GAP_BUCKETS }, (_, i) => `g${i}`)];

function valuesOf(counts: Counts): number[] {
  return [...COUNT_FIELDS.map((name) => counts[name]), ...counts.gaps];
}

function countsOf(values: readonly number[]): Counts {
  const counts = emptyCounts();
  COUNT_FIELDS.forEach((name, i) => (counts[name] = values[i]));
  for (let i = 0; i < GAP_BUCKETS; i++) counts.gaps[i] = values[COUNT_FIELDS.length + i];
  return counts;
}

/** A counter as read back: a number, or the string Redis keeps it as; missing (`MISS`) is 0. */
function counterOf(value: unknown): number {
  if (typeof value === 'number') return value;
  return typeof value === 'string' ? Number(value) || 0 : 0;
}

function isFleetState(value: unknown): value is FleetState {
  if (typeof value !== 'object' || value === null) return false;
  const state = value as Partial<FleetState>;
  return typeof state.window === 'number' && typeof state.smoothed === 'object' && typeof state.tuner === 'object';
}

/**
 * One decision per method for a fleet of processes, through the backend. Each process adds the counters of every
 * window it closes to the fleet's counters of that window (one `incr` per non-zero counter). One window later, when
 * every active process has added its share, the first process to take that window's lock folds the fleet's counters
 * into the fleet's smoothed state, decides with the same rules as a single process, and stores the state; every
 * process reads it back at its next window and adopts its decision. A decision therefore lags the traffic by one
 * window, and costs each process about a dozen commands per window (the decider about thirty more).
 */
export class FleetLink {
  /** Closed windows not sent yet, oldest first: more than one when a call outlived a window (at most a few kept). */
  private pending: Array<{ index: number; counts: Counts }> = [];

  constructor(
    /** Prefix of the method's keys in the backend. */
    private readonly namespace: string,
    private readonly bounds: AdaptiveBounds,
  ) {}

  /** A window this process closed: queued until {@link exchange} (the tuner does not wait for the backend). */
  closed(index: number, counts: Counts): void {
    this.pending.push({ index, counts });
    if (this.pending.length > KEEP_WINDOWS) this.pending.shift();
  }

  /** Whether a closed window waits for {@link exchange}. */
  get due(): boolean {
    return this.pending.length > 0;
  }

  /**
   * Sends the closed window, decides for the fleet if this process takes the lock of the window before it, and
   * answers the fleet's state (`undefined` when none is stored yet).
   */
  async exchange(store: FleetStore, now: number): Promise<FleetState | undefined> {
    const windows = this.pending;
    this.pending = [];
    const pending = windows.at(-1);
    if (!pending) return undefined;
    const ttl = this.bounds.window * KEEP_WINDOWS;
    await Promise.all(
      windows.flatMap(({ index, counts }) =>
        valuesOf(counts).map((value, i) =>
          value === 0 ? undefined : store.incr(fieldKey(this.namespace, index, FIELDS[i]), Math.round(value), { ttl }),
        ),
      ),
    );
    const stateKey = `${this.namespace}:state`;
    const target = pending.index - 1;
    const lockKey = `${this.namespace}:decide:${target}`;
    const token = randomUUID();
    const lock = await store.tryLock(lockKey, token, ttl);
    if (lock !== 'acquired') return this.awaitDecision(store, stateKey, target, lock === 'held');
    // Released however deciding ends (written, found folded already, or failed): the processes waiting for this
    // window's decision then see it at once, or, when it failed, one of them decides instead of waiting it out.
    try {
      return await this.decide(store, stateKey, target, now);
    } finally {
      // A failed unlock is retried by the engine with this token (lost locks): nothing more to do here.
      await store.unlock(lockKey, token).catch(() => false);
    }
  }

  /** Folds the fleet's counters of window `target` into the stored state and stores it; the caller holds the lock. */
  private async decide(store: FleetStore, stateKey: string, target: number, now: number): Promise<FleetState> {
    const [stored, ...merged] = await Promise.all([
      store.readState(stateKey),
      ...FIELDS.map((field) => store.read(fieldKey(this.namespace, target, field))),
    ]);
    const previous = isFleetState(stored) ? stored : undefined;
    // A window already folded (a lock that expired before a slow decider wrote) is not folded twice.
    if (previous && previous.window >= target) return previous;
    const counts = countsOf(merged.map(counterOf));
    const state = nextFleetState(previous, target, counts, this.bounds, now);
    await store.writeState(stateKey, state, Math.max(this.bounds.maxTtl, this.bounds.window) * 10);
    return state;
  }

  /**
   * The fleet's state once it holds the decision of window `target`: while another process decides (`deciding`), read
   * again a few times rather than adopt the previous window's decision for a whole window.
   */
  private async awaitDecision(
    store: FleetStore,
    stateKey: string,
    target: number,
    deciding: boolean,
  ): Promise<FleetState | undefined> {
    let stored: unknown;
    for (let read = 0; read < (deciding ? READS : 1); read++) {
      if (read > 0) await sleep(READ_STEP);
      stored = await store.readState(stateKey);
      if (isFleetState(stored) && stored.window >= target) return stored;
    }
    return isFleetState(stored) ? stored : undefined;
  }
}

/** The fleet's state after folding the fleet's counters of window `index`: the same rules as one process. */
export function nextFleetState(
  previous: FleetState | undefined,
  index: number,
  counts: Counts,
  bounds: AdaptiveBounds,
  now: number,
): FleetState {
  const smoothed = previous ? structuredClone(previous.smoothed) : emptyCounts();
  foldWindow(smoothed, counts, previous ? Math.max(1, index - previous.window) : 1);
  const tuner = decide(previous?.tuner ?? initialState(now), observe(smoothed), bounds, now);
  return { window: index, smoothed, tuner };
}
