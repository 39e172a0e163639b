import { parsePositiveDuration } from '../duration.js';
import { CacheValueError } from '../errors.js';

/**
 * Checks of the arguments of the data-structure and raw-value commands (`getBits` … `setRaw`), run before a call
 * enters the pipeline, so nothing malformed reaches a backend. Arguments are values (`CacheValueError`, as for
 * `incr`'s `by`); TTLs are durations (`CashewsConfigError` from `parsePositiveDuration`, as everywhere).
 */

/** Redis bit offsets stop below 2^32 (a 512 MB string); memory bitmaps follow the same bound. */
const MAX_BITS = 2 ** 32;

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'object' && value !== null ? 'an object' : String(value);
}

function fail(command: string, key: string, message: string): never {
  throw new CacheValueError(`${command}("${key}"): ${message}`);
}

/** The counter width of a bitmap command: an integer from 1 to 16 (default 1). */
export function checkBitSize(command: string, key: string, size: unknown): number {
  if (size === undefined) return 1;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > 16) {
    fail(command, key, `"size" must be an integer from 1 to 16, the bits of each counter (got ${show(size)}).`);
  }
  return size;
}

/** Counter indexes: integers from 0, each counter ending within 2^32 bits. */
export function checkIndexes(command: string, key: string, indexes: unknown, size: number): void {
  if (!Array.isArray(indexes)) {
    fail(command, key, `"indexes" must be an array of integers from 0, such as [0, 7, 42] (got ${show(indexes)}).`);
  }
  const last = Math.floor(MAX_BITS / size) - 1;
  for (const index of indexes as unknown[]) {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > last) {
      fail(
        command,
        key,
        `"indexes" must hold integers from 0 to ${last} (counters of ${size} bits within 2^32 bits, Redis' limit; ` +
          `got ${show(index)}).`,
      );
    }
  }
}

/** `by` of `incrBits`: a safe integer (default 1). */
export function checkBy(command: string, key: string, by: unknown): number {
  if (by === undefined) return 1;
  if (typeof by !== 'number' || !Number.isSafeInteger(by)) {
    fail(command, key, `"by" must be a safe integer such as 1 or -1 (got ${show(by)}).`);
  }
  return by;
}

/** A TTL given to a command that creates a structure: a positive duration when given. */
export function checkTtl(ttl: unknown): number | undefined {
  return ttl === undefined ? undefined : parsePositiveDuration(ttl, 'ttl');
}

/** The slice of `sliceIncr`: finite numbers with `start <= end`, and `max` a positive safe integer. */
export function checkSlice(key: string, start: unknown, end: unknown, max: unknown): void {
  for (const [name, value] of [
    ['start', start],
    ['end', end],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      fail('sliceIncr', key, `"${name}" must be a finite number, such as a time in ms (got ${show(value)}).`);
    }
  }
  if ((start as number) > (end as number)) {
    fail('sliceIncr', key, `"start" must not be after "end" (got start ${show(start)}, end ${show(end)}).`);
  }
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1) {
    fail('sliceIncr', key, `"max" must be an integer of at least 1, the most entries in a slice (got ${show(max)}).`);
  }
}

/** Members of a set command: an array of strings, stored as given (nothing is encoded). */
export function checkMembers(command: string, key: string, members: unknown): void {
  const at = Array.isArray(members) ? members.findIndex((member) => typeof member !== 'string') : -2;
  if (at !== -1) {
    fail(
      command,
      key,
      `"members" must be an array of strings, such as ['ada', 'grace']; members are stored as given, nothing is ` +
        `encoded (got ${at >= 0 ? `a member ${show((members as unknown[])[at])}` : show(members)}).`,
    );
  }
}

/** `count` of `setPop`: an integer from 0. */
export function checkCount(key: string, count: unknown): void {
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    fail('setPop', key, `"count" must be an integer from 0, the most members to pop (got ${show(count)}).`);
  }
}

/** The string of `setRaw`. */
export function checkRaw(key: string, raw: unknown): void {
  if (typeof raw !== 'string') {
    fail('setRaw', key, `"raw" must be a string, stored as given with no codec (got ${show(raw)}).`);
  }
}
