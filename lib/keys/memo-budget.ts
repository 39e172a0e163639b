/**
 * How much a memo of keys may hold, and whether it is worth using: the bookkeeping {@link KeyMemo} and
 * {@link SuffixedKeys} share. A memo holds at most `limit` entries and then starts again empty; when the calls that
 * filled it mostly brought new keys (unique ids, one-off searches) it rests for a while instead, since remembering
 * keys that never come back costs more than it saves.
 */
export class MemoBudget {
  /** Entries held since the memo was last emptied. */
  private size = 0;
  /** Answers found in the memo since it was last emptied. */
  private hits = 0;
  /** Calls left that must not use the memo. */
  private resting = 0;

  constructor(private readonly limit: number) {}

  /** Whether this call may use the memo (not while it rests). */
  open(): boolean {
    if (this.resting === 0) return true;
    this.resting--;
    return false;
  }

  /** An answer was found in the memo. */
  hit(): void {
    this.hits++;
  }

  /** `entries` were added; `true` when the memo must now start again empty. */
  added(entries: number): boolean {
    this.size += entries;
    if (this.size <= this.limit) return false;
    // Fewer hits than entries: most keys were seen once.
    if (this.hits < this.size) this.resting = REST * this.limit;
    this.size = 0;
    this.hits = 0;
    return true;
  }
}

/** A memo that found mostly new keys renders without it for this many times its limit in calls, then tries again. */
const REST = 16;
