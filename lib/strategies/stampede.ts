import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { MISS } from '../miss.js';
import { Recording } from '../streams/recording.js';
import type { StrategyCache, StrategyCall } from './strategy.js';

/** Stampede protection settings shared by `@Cache`, `@Early` and `@Soft`. */
export interface StampedeOptions {
  /** Also serialize across processes with a backend lock (waiters poll the stored value). */
  lock: boolean;
  /** How long the lock is held at most, and how long waiters poll before computing themselves (ms). */
  lockTtl: number;
  /** Polling interval of waiters (ms). */
  step: number;
  /**
   * A run older than this (ms) is not joined by a new caller, who starts one of its own (`@Cache`'s `hardTimeout`:
   * a run that hangs must not fail every later caller). Default: any run in flight is joined.
   */
  shareFor?: number;
}

/**
 * Computes a missing value once. Concurrent callers in this process always share one run; with `lock`,
 * processes race for a backend lock and the losers poll `fresh()` until the winner has stored a value.
 * A waiter that outlives `lockTtl` computes itself rather than wait on a holder that may have died.
 */
export function computeOnce(
  call: StrategyCall,
  cache: StrategyCache,
  options: StampedeOptions,
  fresh: () => Promise<unknown>,
  compute: () => Promise<unknown>,
): Promise<unknown> {
  // A streamed result is stored only once read to its end: until then a caller that misses joins the run being
  // recorded (and reads it from its first chunk) instead of starting another one.
  const live = liveRecordings(cache);
  const joined = live.get(call.key);
  if (joined?.joinable()) return Promise.resolve(joined);
  const flight = cache.singleFlight(
    call.key,
    async (): Promise<Shared> => {
      const answer = await computeLocked(call, cache, options, fresh, compute);
      if (answer instanceof Recording && answer.joinable() && !live.has(call.key)) {
        live.set(call.key, answer);
        void answer.settled().then(() => {
          if (live.get(call.key) === answer) live.delete(call.key);
        });
      }
      return { answer, served: servedRuns.has(call) };
    },
    options.shareFor,
  );
  const mine = flight.then(({ answer, served }) => {
    // Every caller of a shared run that a layer below served (or another process stored) is served, not computed.
    if (served) call.markServed?.();
    return answer;
  });
  runs.set(mine, flight);
  return mine;
}

/** The run each caller's promise from {@link computeOnce} shares with the others (see {@link sharedRun}). */
const runs = new WeakMap<Promise<unknown>, Promise<unknown>>();

/**
 * The one run behind a caller's promise from {@link computeOnce} (itself for any other promise): callers that hand
 * their copy of a shared run to the background (`@Cache` timeouts) adopt it once, so its failure is logged once.
 */
export function sharedRun(work: Promise<unknown>): Promise<unknown> {
  return runs.get(work) ?? work;
}

/**
 * Runs `compute` in the single flight {@link computeOnce} uses for the key, without its cross-process lock: the
 * refresh of a stored value (whose caller holds a lock of its own) and a recompute of the same key in this process
 * share one run, and a refresh that outlives its lock is joined rather than started again.
 */
export function computeShared(
  call: StrategyCall,
  cache: StrategyCache,
  options: StampedeOptions,
  compute: () => Promise<unknown>,
): Promise<unknown> {
  return computeOnce(call, cache, options.lock ? { ...options, lock: false } : options, nothingFresh, compute);
}

/** `fresh` of a run that is never served from the store: a refresh, or a recompute renewing what is stored. */
export const nothingFresh = (): Promise<unknown> => Promise.resolve(MISS);

/** What a shared run answers: the answer, and whether it was served rather than computed. */
interface Shared {
  answer: unknown;
  served: boolean;
}

/** Calls whose run was served (see {@link markRunServed}). */
const servedRuns = new WeakSet<StrategyCall>();

/** Records that `call`'s run was served by a layer below (`compute`), for the callers sharing it. */
export function markRunServed(call: StrategyCall): void {
  servedRuns.add(call);
}

/** Runs of streamed results being recorded, per cache instance and key. */
const recordings = new WeakMap<object, Map<string, Recording>>();

function liveRecordings(cache: StrategyCache): Map<string, Recording> {
  let live = recordings.get(cache);
  if (!live) recordings.set(cache, (live = new Map()));
  return live;
}

/** {@link computeOnce} inside the single flight: the cross-process lock when `lock` is on. */
async function computeLocked(
  call: StrategyCall,
  cache: StrategyCache,
  options: StampedeOptions,
  fresh: () => Promise<unknown>,
  compute: () => Promise<unknown>,
): Promise<unknown> {
  if (!options.lock) return compute();
  const lockKey = `${call.key}:stampede`;
  const token = randomUUID();
  const deadline = Date.now() + options.lockTtl;
  while (Date.now() < deadline) {
    const attempt = await cache.tryLock(lockKey, token, options.lockTtl);
    if (attempt === 'failed') return compute();
    if (attempt === 'acquired') {
      return whileLocked(cache, lockKey, token, async () => {
        const stored = await fresh();
        if (stored === MISS) return compute();
        markRunServed(call);
        return stored;
      });
    }
    await sleep(options.step);
    const stored = await fresh();
    if (stored !== MISS) {
      // Stored by the process that held the lock: served, not computed here.
      markRunServed(call);
      return stored;
    }
  }
  return compute();
}

/**
 * Runs `work` while this caller holds the lock `lockKey` (taken with `token`), then releases it: at once, or, for a
 * streamed answer (a {@link Recording}, stored once read to its end), when the recording settles, so that waiters
 * keep polling until the value is there. An unlock that fails leaves the lock to its ttl: never an unhandled rejection.
 */
export async function whileLocked(
  cache: StrategyCache,
  lockKey: string,
  token: string,
  work: () => Promise<unknown>,
): Promise<unknown> {
  let recording: Recording | undefined;
  try {
    const answer = await work();
    if (answer instanceof Recording) recording = answer;
    return answer;
  } finally {
    if (recording) {
      void recording
        .settled()
        .then(() => cache.unlock(lockKey, token))
        .catch(() => undefined);
    } else await cache.unlock(lockKey, token);
  }
}
