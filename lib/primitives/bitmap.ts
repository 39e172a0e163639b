import { wrongType } from './wrong-type.js';

/**
 * Memory state of a bitmap (`incrBits`): its bytes, laid out as Redis lays out a string for `BITFIELD` (bit 0 is
 * the high bit of byte 0, a counter's bits run from its most significant one), so both backends agree bit for bit.
 * Grown on write, as Redis grows the string.
 */
export class Bitmap {
  constructor(public bytes: Uint8Array) {}
}

const encoder = new TextEncoder();

/**
 * The bytes a bitmap command works on: a bitmap's own, or, for a string (or an integer, which Redis stores as its
 * decimal string), its UTF-8 bytes as Redis would hold them; `undefined` for a missing key.
 * @throws CacheValueError when the key holds anything else (a set, a sliding counter, a JS value).
 */
export function bitmapBytes(command: string, key: string, raw: unknown): Uint8Array | undefined {
  if (raw === undefined) return undefined;
  if (raw instanceof Bitmap) return raw.bytes;
  if (typeof raw === 'string') return encoder.encode(raw);
  if (typeof raw === 'number' && Number.isSafeInteger(raw)) return encoder.encode(String(raw));
  throw wrongType(command, key, 'a bitmap or a string');
}

/** The unsigned counter of `size` bits at `index` (Redis `BITFIELD GET u<size> #<index>`); 0 past the end. */
export function readCounter(bytes: Uint8Array, index: number, size: number): number {
  let value = 0;
  for (let bit = index * size, end = bit + size; bit < end; bit++) {
    const byte = bit >>> 3;
    value = value * 2 + (byte < bytes.length && bytes[byte] & (0x80 >>> (bit & 7)) ? 1 : 0);
  }
  return value;
}

/** Writes `value` into the counter of `size` bits at `index`; `bytes` must already reach it. */
export function writeCounter(bytes: Uint8Array, index: number, size: number, value: number): void {
  for (let bit = index * size + size - 1, rest = value; bit >= index * size; bit--, rest = Math.floor(rest / 2)) {
    const mask = 0x80 >>> (bit & 7);
    if (rest % 2) bytes[bit >>> 3] |= mask;
    else bytes[bit >>> 3] &= ~mask;
  }
}
