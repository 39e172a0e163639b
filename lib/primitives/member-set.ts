import { wrongType } from './wrong-type.js';

/**
 * Memory state of a set (`setAdd`): its members, in insertion order. A class of its own, so a JS `Set` stored as a
 * value is not taken for one (on Redis such a value is a string, which `SADD` refuses).
 */
export class MemberSet {
  readonly members = new Set<string>();
}

/**
 * The set at the key: `undefined` when missing.
 * @throws CacheValueError when the key holds anything else.
 */
export function memberSet(command: string, key: string, raw: unknown): MemberSet | undefined {
  if (raw === undefined || raw instanceof MemberSet) return raw;
  throw wrongType(command, key, 'a set');
}
