import { CacheValueError } from '../errors.js';

/** Whether Redis refused a command because the key holds another type (a set where a string was expected…). */
export function isWrongType(error: Error): boolean {
  return error.message.startsWith('WRONGTYPE');
}

/**
 * The error of a data-structure command run on a key that holds another kind of value: the same
 * {@link CacheValueError} on every backend (on Redis it replaces the server's `WRONGTYPE`), and the key is left as
 * it was.
 */
export function wrongType(command: string, key: string, expected: string, cause?: unknown): CacheValueError {
  return new CacheValueError(
    `${command}("${key}"): the key holds another kind of value than ${expected} (a value written by set, a set, a ` +
      `bitmap or a sliding counter); it was left unchanged. Use a key of its own for each structure.`,
    { cause },
  );
}
