/** Longest a release is retried when the lock's own TTL is unknown (a failed `unlock(key, token)`). */
const UNKNOWN_TTL_MS = 60_000;
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 1_000;

interface LostLock {
  key: string;
  token: string;
  /** `Date.now()` after which the lock has expired by itself: retrying is pointless. */
  until: number;
}

/**
 * Locks that may be held without their holder knowing: the `SET NX` reached Redis but its reply was lost
 * (the caller saw a failure, so it never unlocks), or an unlock failed. Each is released with its own token
 * (the token-checked unlock cannot release anyone else's lock) as soon as the backend answers again,
 * retried with a growing pause until the lock's TTL has passed, so no lock stays orphaned until it expires.
 */
export class LostLocks {
  private readonly locks = new Map<string, LostLock>();
  private timer?: NodeJS.Timeout;
  private pause = FIRST_RETRY_MS;
  private closed = false;

  constructor(private readonly unlock: (key: string, token: string) => Promise<boolean>) {}

  /** Number of locks still to release. */
  get size(): number {
    return this.locks.size;
  }

  /** Releases `key` if it holds `token`, retrying while the backend fails, for at most `ttl` ms. */
  remember(key: string, token: string, ttl = UNKNOWN_TTL_MS): void {
    if (this.closed) return;
    this.locks.set(`${token}\n${key}`, { key, token, until: Date.now() + ttl });
    this.pause = FIRST_RETRY_MS;
    this.schedule();
  }

  /** Stops retrying (instance shutdown); whatever is left expires with its TTL. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.locks.clear();
  }

  private schedule(): void {
    if (this.timer || this.closed || this.locks.size === 0) return;
    this.timer = setTimeout(() => void this.release(), this.pause);
    this.timer.unref();
  }

  private async release(): Promise<void> {
    const now = Date.now();
    await Promise.all(
      [...this.locks].map(async ([id, lock]) => {
        if (now >= lock.until) {
          this.locks.delete(id);
          return;
        }
        try {
          // Answered (released, or no longer ours): done either way.
          await this.unlock(lock.key, lock.token);
          this.locks.delete(id);
        } catch {
          // Still unreachable: retried below.
        }
      }),
    );
    this.timer = undefined;
    this.pause = Math.min(this.pause * 2, MAX_RETRY_MS);
    this.schedule();
  }
}
