/** What the sampler keeps of one key: when it was last called, and the digest of its last observed result. */
interface Entry {
  seen: number;
  digest?: number;
  /** When {@link Entry.digest} was observed. */
  observed: number;
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
 * Bounded memory of a method's keys, by 32-bit key hash, with spatial sampling (as in SHARDS, Waldspurger et al.,
 * FAST '15): a key is tracked only when its hash falls below a threshold, so a sampled key is tracked on every call
 * and the repeat figures of the sampled keys stand for all keys. A new key that finds the table full takes the place
 * of the least recently called one when that one has been idle for `idleAfter` ms; otherwise the rate halves and the
 * keys above the new threshold leave. At the end of a window with few sampled calls (a workload of a few hot keys
 * after one of many unique keys) every key is sampled again. At most `capacity` entries, ever.
 */
export class KeySampler {
  /** Insertion order is recency: a touched key moves to the end, the first one is the least recently called. */
  private readonly entries = new Map<number, Entry>();
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

  /**
   * A call of the key with this hash at `now`: `undefined` when the key is not sampled, `-1` when it is sampled and
   * was not seen (or was forgotten), else the time since its previous call (ms).
   */
  touch(hash: number, now: number): number | undefined {
    if (hash >= this.threshold) return undefined;
    const entry = this.entries.get(hash);
    if (entry) {
      const gap = Math.max(0, now - entry.seen);
      entry.seen = now;
      this.entries.delete(hash);
      this.entries.set(hash, entry);
      return gap;
    }
    if (this.entries.size >= this.capacity) {
      const [oldest, least] = this.entries.entries().next().value as [number, Entry];
      if (now - least.seen >= this.idleAfter) this.entries.delete(oldest);
      else {
        this.shrink();
        if (hash >= this.threshold) return undefined;
        // Still full (every tracked hash is below the new threshold): the least recently called key leaves.
        if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as number);
      }
    }
    this.entries.set(hash, { seen: now, observed: now });
    return -1;
  }

  /** Whether the key with this hash is tracked now. */
  tracks(hash: number): boolean {
    return hash < this.threshold && this.entries.has(hash);
  }

  /**
   * A result of the key with this hash, observed at `now`: compared with the key's previous result, if any (`undefined`
   * when the key is not tracked or had no result yet).
   */
  result(hash: number, digest: number, now: number): ChangeObservation | undefined {
    const entry = hash < this.threshold ? this.entries.get(hash) : undefined;
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
    for (const [hash, entry] of this.entries) {
      if (now - entry.seen <= horizon) break; // recency order: the rest are more recent
      this.entries.delete(hash);
    }
    if (sampledCalls < this.capacity / 8) this.threshold = ALL;
  }

  private shrink(): void {
    this.threshold /= 2;
    for (const hash of [...this.entries.keys()]) if (hash >= this.threshold) this.entries.delete(hash);
  }
}
