/**
 * 32-bit FNV-1a of a string: cheap, allocation-free, and good enough to tell keys and results apart for statistics
 * (a collision merges two keys' observations or misses one change; it never changes what a caller is served).
 */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * A digest of a method's result, to notice when the result for one key changed, with the length of its JSON text (an
 * estimate of its size in bytes); `undefined` when the result has no JSON form (a stream, a BigInt, a circular
 * object): such runs count as runs but not as change observations.
 */
export function resultDigest(result: unknown): { readonly digest: number; readonly bytes: number } | undefined {
  if (result === undefined) return { digest: 0, bytes: 0 };
  try {
    const text = JSON.stringify(result);
    return text === undefined ? undefined : { digest: fnv1a(text), bytes: text.length };
  } catch {
    return undefined;
  }
}
