import { fnv1a } from './digest.js';

/** What the sampler keeps of one key: when it was last called, and the digest of its last observed result. */
interface Entry {
  /** The key as the table holds it (see {@link heldKey}). */
  readonly key: string;
  /** 32-bit hash of the key: the key stays tracked while it is below the sampling threshold. */
  readonly hash: number;
  seen: number;
  digest?: number;
  /** When {@link Entry.digest} was observed. */
  observed: number;
  /** The entry called just before this one, and just after: the recency list (see {@link KeySampler}). */
  older: Entry | undefined;
  newer: Entry | undefined;
}

/** One comparison of a key's successive results. */
export interface ChangeObservation {
  /** Time between the two results (ms). */
  readonly spanMs: number;
  readonly changed: boolean;
}

/** The sampling threshold of rate 1: every 32-bit hash passes. */
const ALL = 2 ** 32;

/**
 * Keys longer than this are held by a hash of them (see {@link heldKey}): the table's memory stays bounded. The
 * `@Adaptive` strategy hands the tuner `<key>:%adaptive` (adaptive.strategy.ts): a call key of up to 64 characters
 * and that 10-character suffix are held as they are, as the README says.
 */
const LONG_KEY = 74;
/** A second FNV-1a offset basis, for a second hash independent of the sampling one. */
const SECOND_BASIS = 0x050c5d1f;

/**
 * What the table holds for `key`: the key itself, or for a key longer than {@link LONG_KEY} characters a 64-bit hash of
 * it with its length (at most 30 characters, starting with a NUL). Two long keys with the same hash would share their statistics, never what a caller is served: the last good results are kept by full key.
 */
function heldKey(key: string): string {
  return key.length <= LONG_KEY
    ? key
    : `\0${fnv1a(key).toString(36)}:${fnv1a(key, SECOND_BASIS).toString(36)}:${key.length.toString(36)}`;
}

/**
 * Bounded memory of a method's keys, with spatial sampling by 32-bit key hash (as in SHARDS, Waldspurger et al.,
 * FAST '15): a key is tracked only when its hash falls below a threshold, so a sampled key is tracked on every call
 * and the repeat figures of the sampled keys stand for all keys. A new key that finds the table full takes the place
 * of the least recently called one when that one has been idle for `idleAfter` ms; otherwise the rate halves and the
 * keys above the new threshold leave. At the end of a window with few sampled calls (a workload of a few hot keys
 * after one of many unique keys) every key is sampled again. At most `capacity` entries, ever.
 *
 * Entries are linked in the order their keys were last called: a call of a tracked key costs one lookup by the key
 * (no hash computed in JS for a key of up to 74 characters) and moves its entry to the newest end of the list (a few
 * pointer writes, no Map reordering), so the oldest entry is always exactly the least recently called.
 */
export class KeySampler {
  private readonly entries = new Map<string, Entry>();
  /** Ends of the recency list: the least and the most recently called entries. */
  private oldest: Entry | undefined;
  private newest: Entry | undefined;
  private threshold = ALL;

  constructor(
    private readonly capacity = 1024,
    private readonly idleAfter = 10_000,
  ) {}

  /** Fraction of keys tracked (1, ½, ¼, …). */
  get rate(): number {
    return this.threshold / ALL;
  }

  /** Keys tracked now. */
  get size(): number {
    return this.entries.size;
  }

  /** Characters of the keys the table holds (at most `capacity` × 74: long keys are held by a hash). */
  get heldKeyChars(): number {
    let chars = 0;
    for (const key of this.entries.keys()) chars += key.length;
    return chars;
  }

  /**
   * A call of `key` at `now`: `undefined` when the key is not sampled, `-1` when it is sampled and was not seen (or
   * was forgotten), else the time since its previous call (ms).
   */
  touch(called: string, now: number): number | undefined {
    const key = heldKey(called);
    // `key` is usually a fresh concatenation (the call key and a suffix). Reading a character flattens it in compiled
    // code; the Map lookup of an unflattened one flattens it in the runtime, about 70 ns more per call here.
    if (key.charCodeAt(0) === -1) return undefined;
    const entry = this.entries.get(key);
    if (entry) {
      const gap = Math.max(0, now - entry.seen);
      entry.seen = now;
      if (entry !== this.newest) {
        this.unlink(entry);
        this.append(entry);
      }
      return gap;
    }
    const hash = fnv1a(called);
    if (hash >= this.threshold) return undefined;
    if (this.entries.size >= this.capacity) {
      const least = this.oldest as Entry;
      if (now - least.seen >= this.idleAfter) this.remove(least);
      else {
        this.shrink();
        if (hash >= this.threshold) return undefined;
        // Still full (every tracked hash is below the new threshold): the least recently called key leaves.
        if (this.entries.size >= this.capacity) this.remove(this.oldest as Entry);
      }
    }
    const added: Entry = { key, hash, seen: now, digest: undefined, observed: now, older: undefined, newer: undefined };
    this.entries.set(key, added);
    this.append(added);
    return -1;
  }

  /** Whether `key` is tracked now. */
  tracks(key: string): boolean {
    return this.entries.has(heldKey(key));
  }

  /**
   * A result of `key`, observed at `now`: compared with the key's previous result, if any (`undefined` when the key
   * is not tracked or had no result yet).
   */
  result(key: string, digest: number, now: number): ChangeObservation | undefined {
    const entry = this.entries.get(heldKey(key));
    if (!entry) return undefined;
    const previous = entry.digest;
    const since = entry.observed;
    entry.digest = digest;
    entry.observed = now;
    if (previous === undefined) return undefined;
    return { spanMs: Math.max(0, now - since), changed: previous !== digest };
  }

  /**
   * End of a window: forgets keys idle for longer than `horizon` ms, and samples every key again when the window had
   * fewer than an eighth of `capacity` sampled calls (the table would fill again before the rate needs to drop).
   */
  endWindow(now: number, horizon: number, sampledCalls: number): void {
    for (let least = this.oldest; least; least = this.oldest) {
      if (now - least.seen <= horizon) break; // the least recently called is recent: so are all the others
      this.remove(least);
    }
    if (sampledCalls < this.capacity / 8) this.threshold = ALL;
  }

  /** Makes `entry` the most recently called. */
  private append(entry: Entry): void {
    entry.older = this.newest;
    entry.newer = undefined;
    if (this.newest) this.newest.newer = entry;
    else this.oldest = entry;
    this.newest = entry;
  }

  /** Takes `entry` out of the recency list. */
  private unlink(entry: Entry): void {
    if (entry.older) entry.older.newer = entry.newer;
    else this.oldest = entry.newer;
    if (entry.newer) entry.newer.older = entry.older;
    else this.newest = entry.older;
    entry.older = entry.newer = undefined;
  }

  private remove(entry: Entry): void {
    this.unlink(entry);
    this.entries.delete(entry.key);
  }

  private shrink(): void {
    this.threshold /= 2;
    for (const entry of [...this.entries.values()]) if (entry.hash >= this.threshold) this.remove(entry);
  }
}
