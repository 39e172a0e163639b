import { INVALID, type Codec } from './codec.js';
import { MAX_DEPTH, tooDeepToServe, valueRefused } from './value-walker.js';

/**
 * `codec=json`: values are stored as plain JSON text, so services in other languages read and write the same
 * keys (see the README, "Values" for the wire format). Only what JSON holds exactly is accepted: `null`,
 * booleans, finite numbers, strings, arrays and plain objects. Anything JSON would change silently (`undefined`
 * dropped, `NaN` turned into `null`, a `Date` into a string, a class instance into a plain object) or cannot hold
 * (bigint, `Map`, `Set`, functions, cycles) is refused with `CacheValueError` naming where it is.
 * Integers are plain digits, as the cashews codec stores them, so `incr` works on them.
 */
export class JsonCodec implements Codec {
  encode(key: string, value: unknown): string {
    check(value, key, '', 0, new Set());
    return JSON.stringify(value);
  }

  decode(_key: string, raw: unknown): unknown {
    if (typeof raw === 'number') return raw;
    const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : raw;
    if (typeof text !== 'string') return INVALID;
    try {
      // JSON.parse never assigns through __proto__; a payload deep enough to hide more than MAX_DEPTH levels is
      // measured, as it could not be served.
      const value = JSON.parse(text) as unknown;
      return text.length > 2 * MAX_DEPTH && tooDeepToServe(value) ? INVALID : value;
    } catch {
      return INVALID;
    }
  }
}

function check(value: unknown, key: string, path: string, depth: number, seen: Set<object>): void {
  const refuse = (what: string): never => {
    throw valueRefused(
      `codec=json cannot store ${what}${path ? ` at ${path}` : ''} (key "${key}"): it stores plain JSON only ` +
        `(null, booleans, finite numbers, strings, arrays, plain objects). Convert it first (a Date with ` +
        `toISOString(), a Map with Object.fromEntries), or use the default codec.`,
      `codec=json: ${what}`,
    );
  };
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      return Number.isFinite(value) ? undefined : refuse(String(value));
    case 'object':
      break;
    default:
      return refuse(typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`);
  }
  if (value === null) return;
  if (depth >= MAX_DEPTH) refuse(`a value nested deeper than ${MAX_DEPTH} levels`);
  if (seen.has(value)) refuse('a cycle');
  seen.add(value);
  if (Array.isArray(value)) {
    value.forEach((item, i) => check(item, key, `${path}[${i}]`, depth + 1, seen));
  } else {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      refuse(`an instance of ${(value as object).constructor?.name ?? 'a class'}`);
    }
    for (const [name, item] of Object.entries(value)) check(item, key, `${path}.${name}`, depth + 1, seen);
  }
  seen.delete(value);
}
