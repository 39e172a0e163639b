import { createHash } from 'node:crypto';

/**
 * Short, stable fingerprint of a piece of source text: the first 8 hex digits of its SHA-1. Used as the
 * default key version of a decorated method and as the version of a registered class, so that changing
 * the code changes the key (or invalidates the stored instance) without anyone bumping a number.
 */
export function fingerprint(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 8);
}

const byFunction = new WeakMap<object, string>();

/**
 * Fingerprint of a function's or a class's source (`fn.toString()`), computed once per function. For a
 * class this covers its whole body: fields, constructor and methods.
 *
 * @example
 * functionFingerprint(function find(id) { return id; }); // e.g. '3f9a2c1b'
 */
export function functionFingerprint(
  fn: ((...args: never[]) => unknown) | (abstract new (...args: never[]) => unknown),
): string {
  let value = byFunction.get(fn);
  if (value === undefined) {
    value = fingerprint(Function.prototype.toString.call(fn));
    byFunction.set(fn, value);
  }
  return value;
}
