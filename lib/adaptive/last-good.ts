import { fromTagged, toTagged, type Tagged } from '../codec/value-walker.js';

/**
 * One kept value: its tagged tree (the codec's form, from which each find rebuilds a value of its own), its estimated
 * size, and when its run succeeded.
 */
interface Kept {
  readonly tagged: Tagged;
  readonly bytes: number;
  readonly at: number;
}

/**
 * The last good result of a method's tracked keys, in this process, for a failure to fall back on before the
 * fallback kept in the backend (`<key>:%failover`) is switched on. Bounded: at most `maxEntries` keys and about
 * `maxBytes` bytes (sizes estimated from the JSON text the tuner computes anyway); the least recently kept key
 * leaves first. Keyed by the call's full key, never a hash of it: no collision can answer one key with another's
 * value. Nothing is written to the backend: keeping a value costs a copy in memory per run of a tracked key.
 */
export class LastGood {
  /** Insertion order is recency: a key kept again moves to the end. */
  private readonly entries = new Map<string, Kept>();
  private bytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  /** Keys kept now. */
  get size(): number {
    return this.entries.size;
  }

  /** Bytes kept now (estimated). */
  get usedBytes(): number {
    return this.bytes;
  }

  /**
   * Keeps a copy of `value`, the result of a successful run for `key` at `now`, of about `bytes` bytes. A value that
   * cannot be copied, or larger than an eighth of `maxBytes`, is not kept (and the key's older value goes).
   */
  keep(key: string, value: unknown, bytes: number, now: number): void {
    this.forget(key);
    if (bytes > this.maxBytes / 8) return;
    let tagged: Tagged;
    try {
      tagged = toTagged(value);
    } catch {
      return; // a function, a symbol: nothing the backend could keep either
    }
    this.entries.set(key, { tagged, bytes, at: now });
    this.bytes += bytes;
    while (this.entries.size > this.maxEntries || this.bytes > this.maxBytes) {
      this.forget(this.entries.keys().next().value as string);
    }
  }

  /**
   * The value kept for `key` if it is at most `maxAge` ms old at `now`, with its age; `undefined` otherwise. Each find
   * rebuilds the value, as a read from Redis would: a caller changing what it was served does not change what the
   * next failure is answered with, and a value holding an instance of a class redefined since is nothing kept.
   */
  find(key: string, now: number, maxAge: number): { readonly value: unknown; readonly age: number } | undefined {
    const kept = this.entries.get(key);
    if (!kept) return undefined;
    const age = Math.max(0, now - kept.at);
    if (age > maxAge) {
      this.forget(key);
      return undefined;
    }
    try {
      return { value: fromTagged(kept.tagged), age };
    } catch {
      // An instance of a registered class redefined since (a deploy, a hot reload): outdated, a miss as on Redis. The
      // failure being answered goes through as it is, not this one.
      this.forget(key);
      return undefined;
    }
  }

  /** Drops the value kept for `key`, if any. */
  forget(key: string): void {
    const kept = this.entries.get(key);
    if (!kept) return;
    this.entries.delete(key);
    this.bytes -= kept.bytes;
  }
}
