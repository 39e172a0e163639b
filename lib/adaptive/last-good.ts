import { fromTagged, type Tagged } from '../codec/value-walker.js';
import type { ResultDigest } from './digest.js';

/**
 * One kept value: the JSON text of its tagged tree (the codec's form, from which each find rebuilds a value of its
 * own), its size with its key's, and when its run succeeded.
 */
interface Kept {
  readonly text: string;
  readonly bytes: number;
  readonly at: number;
}

/**
 * The last good result of a method's tracked keys, in this process, for a failure to fall back on before the
 * fallback kept in the backend (`<key>:%failover`) is switched on. Bounded: at most `maxEntries` keys and about
 * `maxBytes` bytes, keys included (a result counts as the JSON text of its stored form, which the tuner computes
 * anyway, and is kept as that text: a Map or a typed array counts by its content); the least recently kept key leaves
 * first. Keyed by the call's full key, never a hash of it: no collision can answer one key with another's value.
 * Nothing is written to the backend: keeping a value costs its text in memory per run of a tracked key.
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
   * Keeps `result` (its stored form, see {@link ResultDigest}), the result of a successful run for `key` at `now`. Its
   * size counts the key's length with the text's. A result that cannot be stored (`undefined`), or larger than an
   * eighth of `maxBytes`, is not kept, and the key's older value goes.
   */
  keep(key: string, result: ResultDigest | undefined, now: number): void {
    this.forget(key);
    if (!result) return;
    const bytes = key.length + result.bytes;
    if (bytes > this.maxBytes / 8) return;
    this.entries.set(key, { text: result.text, bytes, at: now });
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
      return { value: fromTagged(JSON.parse(kept.text) as Tagged), age };
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
