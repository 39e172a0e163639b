import { toTagged } from '../codec/value-walker.js';

/**
 * 32-bit FNV-1a of a string: cheap, allocation-free, and good enough to tell keys and results apart for statistics
 * (a collision merges two keys' observations or misses one change; it never changes what a caller is served).
 * `basis`: another offset basis gives another, independent hash of the same text.
 */
export function fnv1a(text: string, basis = 0x811c9dc5): number {
  let hash = basis;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A method's result as the tuner observes and keeps it (see {@link resultDigest}). */
export interface ResultDigest {
  /** 32-bit hash of {@link text}: a change of the result for one key changes it. */
  readonly digest: number;
  /** The JSON text of the result's stored form (the codec's tagged tree), from which a copy of it is rebuilt. */
  readonly text: string;
  /** Estimated size in bytes: the length of {@link text}. */
  readonly bytes: number;
}

/**
 * A digest of a method's result, to notice when the result for one key changed, from its stored form: the codec's
 * tagged tree, so that a Map, a Set, a typed array or a Date counts (and changes) by its content, not by the `{}` of
 * its JSON text. `undefined` when the result cannot be stored (a stream, a function, a circular object): such runs
 * count as runs but not as change observations.
 */
export function resultDigest(result: unknown): ResultDigest | undefined {
  try {
    const text = JSON.stringify(toTagged(result));
    return { digest: fnv1a(text), text, bytes: text.length };
  } catch {
    return undefined;
  }
}
