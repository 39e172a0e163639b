/**
 * Helpers of the fault suite (test/faults/*.e2e-spec.ts): traffic that keeps hundreds of commands in flight
 * while faults are injected, a collector of unhandled rejections, and raw reads of what Redis really holds.
 * Every loop is bounded; every wait has a deadline.
 */
import { rawRedis, sleep } from '../support/redis.js';

/** Rejects if `promise` has not settled within `ms`, so a hanging command fails the test instead of the run. */
export async function within<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Longest the fault rounds of one `underFaults` run may take before it stops injecting (see below). */
const ROUNDS_BUDGET_MS = 10_000;
/** Rounds always injected, however slow the machine. */
const MIN_ROUNDS = 3;

/**
 * Jest timeout of a fault test: above the sum of its own bounded waits (opening ≤10 s, fault rounds ≈10 s plus
 * one slow round, stopping the loops ≤15 s, waiting for recovery ≤10 s), so a slow run fails on what it asserts.
 */
export const FAULT_TEST_TIMEOUT_MS = 60_000;

/**
 * Runs `workers` concurrent loops of `op(n)` (n unique across all loops) while `fault(round)` is injected
 * `rounds` times, `gapMs` apart; then stops the loops and waits for them (bounded). A failed op pauses its
 * loop briefly, so an outage does not turn into a busy loop; so does an op that succeeded while `offline()` says
 * the connection is down (a fallback answered in memory): such an op never reaches Redis, and hundreds of loops
 * spinning on it only slow the rounds down. The loops resume within 10 ms of the reconnect, so the next fault still
 * meets all of them with commands in flight.
 *
 * On a loaded machine a round can take seconds (reconnects, command timeouts): past `ROUNDS_BUDGET_MS` no
 * further round starts once `MIN_ROUNDS` are done, so the test's own assertions, not Jest's timeout, decide it.
 */
export async function underFaults(options: {
  workers: number;
  rounds: number;
  gapMs: number;
  op: (n: number) => Promise<'ok' | 'failed'>;
  fault: (round: number) => Promise<void>;
  /** Whether the connection under test is down (then an op's success came from a fallback). */
  offline?: () => boolean;
}): Promise<{ calls: number; rounds: number }> {
  let next = 0;
  let stopped = false;
  const offline = options.offline ?? (() => false);
  const loops = Array.from({ length: options.workers }, async () => {
    while (!stopped) {
      // Yield to timers either way: a fallback answered in memory would otherwise starve the event loop.
      if ((await options.op(next++)) === 'failed' || offline()) await sleep(10);
      else await new Promise((resolve) => setImmediate(resolve));
    }
  });
  const started = Date.now();
  let rounds = 0;
  try {
    while (rounds < options.rounds) {
      if (rounds >= MIN_ROUNDS && Date.now() - started > ROUNDS_BUDGET_MS) break;
      await sleep(options.gapMs);
      await options.fault(rounds++);
    }
    await sleep(options.gapMs);
  } finally {
    stopped = true;
    await within(Promise.all(loops), 15_000, 'traffic loops');
  }
  return { calls: next, rounds };
}

/**
 * Every key of `url`'s database whose name contains `marker`, with its string value (SCAN, then one MGET per batch
 * of keys: a test can leave tens of thousands of them, and one GET each cost seconds of CPU). A reading that
 * fails (a connection refused or cut on a loaded machine) is retried, at most 3 times: the assertion is about what
 * Redis holds, not about the reading connection.
 */
export async function rawValues(url: string, marker: string): Promise<Map<string, string | null>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await readValues(url, marker);
    } catch (error) {
      if (attempt >= 3) throw error;
      await sleep(200);
    }
  }
}

async function readValues(url: string, marker: string): Promise<Map<string, string | null>> {
  const raw = rawRedis(url);
  try {
    const values = new Map<string, string | null>();
    let cursor = '0';
    do {
      const [next, keys] = await raw.scan(cursor, 'MATCH', `*${marker}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const read = await raw.mget(keys);
      keys.forEach((key, i) => values.set(key, read[i]));
    } while (cursor !== '0');
    return values;
  } finally {
    raw.disconnect();
  }
}

/** `CLIENT KILL TYPE normal` of every client but the one asking: the cache's connections drop mid-flight. */
export async function killClients(url: string): Promise<void> {
  // The killing connection itself may fail to connect on a loaded machine: retry it (at most 3 times), since a
  // fault round that never happened would make the test prove nothing.
  for (let attempt = 1; ; attempt++) {
    const raw = rawRedis(url);
    try {
      await raw.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      return;
    } catch (error) {
      if (attempt >= 3) throw error;
      await sleep(100);
    } finally {
      raw.disconnect();
    }
  }
}

/** A list that should be empty, as `{ count, first }`: a failure shows how many and a few, not thousands. */
export function summary<T>(list: Iterable<T>): { count: number; first: T[] } {
  const all = [...list];
  return { count: all.length, first: all.slice(0, 5) };
}

export const NONE = { count: 0, first: [] };
