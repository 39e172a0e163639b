import { createHmac, timingSafeEqual } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from 'node:zlib';
import { registryVersion } from './class-registry.js';
import {
  copyOf,
  fromTagged,
  MAX_DEPTH,
  OutdatedClassError,
  registeredCount,
  tagCount,
  toTagged,
  tooDeepToServe,
  type Tagged,
} from './value-walker.js';

/** What {@link Codec.decode} answers for a raw value it refuses (bad signature, foreign format). */
export const INVALID: unique symbol = Symbol('cashews.invalid');

/**
 * What {@link Codec.decode} answers for a value holding an instance of a registered class whose
 * definition has changed since it was stored: a miss, not a warning (it is the expected effect of a deploy).
 */
export const OUTDATED: unique symbol = Symbol('cashews.outdated');

/**
 * Turns values into what a backend stores and back. Backends stay format-agnostic; signing and the
 * copy-on-write guarantee of the memory store live here, once.
 */
export interface Codec {
  encode(key: string, value: unknown): unknown;
  decode(key: string, raw: unknown): unknown;
}

const UNDEFINED = Object.freeze({ cashews: 'undefined' });
/**
 * A safe integer as `String(n)` writes it (and Redis's INCRBY): no leading zero, no `-0`, at most 16 digits; checked
 * against the safe range too. Anything else written bare is not one of the library's own integers and, on a signed
 * instance, could not be told from a forged one.
 */
const INTEGER = /^(?:0|-?[1-9]\d{0,15})$/;

/**
 * In-process codec: stores a deep copy, so mutating an object after `set` cannot change the cache.
 * Reads return the stored copy without copying again, which keeps memory hits close to a raw LRU.
 * A value holding instances of registered classes is stored as a {@link RegisteredCopy}, so a class
 * redefined since reads exactly as it would from Redis.
 */
export class CloneCodec implements Codec {
  encode(_key: string, value: unknown): unknown {
    if (value === undefined) return UNDEFINED;
    if (typeof value === 'object' && value !== null) {
      const before = registeredCount();
      const copy = copyOf(value);
      // Instances of registered classes are rare: the value is walked again for the tree they are rebuilt from.
      return registeredCount() === before ? copy : new RegisteredCopy(toTagged(value));
    }
    // Primitives need no copy but still go through the walker's checks (functions, symbols).
    return typeof value === 'function' || typeof value === 'symbol' ? toTagged(value) : value;
  }

  decode(_key: string, raw: unknown): unknown {
    if (raw === UNDEFINED) return undefined;
    // Until one was made, no stored value can be a RegisteredCopy: a hit skips the prototype walk.
    return RegisteredCopy.made && raw instanceof RegisteredCopy ? raw.read() : raw;
  }
}

/**
 * A stored copy holding instances of registered classes, with the tagged tree it was built from. While the
 * class registry is unchanged, reads answer the copy; once a class was registered, redefined (a deploy, a hot
 * reload) or unregistered, the copy is rebuilt from the tree exactly as a Redis read rebuilds it: instances of
 * the class registered now, plain objects for a name no longer registered, or {@link OUTDATED} (a miss) when
 * the class registered under the name is another definition.
 */
class RegisteredCopy {
  /** Whether any instance was made in this process. */
  static made = false;
  private value: unknown;
  private version = -1;

  constructor(private readonly tagged: Tagged) {
    RegisteredCopy.made = true;
    this.read();
  }

  read(): unknown {
    const version = registryVersion();
    if (version !== this.version) {
      this.version = version;
      try {
        this.value = fromTagged(this.tagged);
      } catch (error) {
        if (!(error instanceof OutdatedClassError)) throw error;
        this.value = OUTDATED;
      }
    }
    return this.value;
  }
}

/** Compression of {@link StringCodec} payloads (`compress`, `compress_min`). */
export interface Compression {
  readonly algorithm: 'gzip' | 'br';
  /** Payloads shorter than this (in UTF-16 code units, about bytes for JSON) are stored as they are. */
  readonly min: number;
}

/** Largest payload a compressed value may expand to: a value crafted to expand further is refused, not read. */
const MAX_EXPANDED = 256 * 1024 * 1024;

/**
 * String codec for Redis (and for memory when a `secret` is set). Safe integers are stored as bare
 * decimals so `INCRBY` works on them; everything else is `c1:<payload>` or, signed, `c1s:<mac>:<payload>`
 * with an HMAC-SHA256 over the key and the payload, verified before anything is parsed. The payload is
 * `p<json>` for plain JSON (read back by `JSON.parse` alone), `t<json>` for a tagged tree, or, compressed,
 * `zg<base64 of gzip>` / `zb<base64 of brotli>` of one of those: the signature covers the compressed form, so
 * nothing is decompressed before it is verified. Every instance reads compressed values, whatever its own
 * `compress` setting.
 */
export class StringCodec implements Codec {
  constructor(
    private readonly secret?: string,
    private readonly compression?: Compression,
  ) {}

  encode(key: string, value: unknown): string {
    if (typeof value === 'number' && Number.isSafeInteger(value) && !Object.is(value, -0)) return String(value);
    const before = tagCount();
    const json = JSON.stringify(toTagged(value));
    let payload = (tagCount() === before ? 'p' : 't') + json;
    if (this.compression && payload.length >= this.compression.min) payload = compress(payload, this.compression);
    return this.secret ? `c1s:${this.mac(key, payload)}:${payload}` : `c1:${payload}`;
  }

  decode(key: string, raw: unknown): unknown {
    // The usual value first: unsigned plain JSON (`c1:p<json>`), parsed from one slice with no other test (about a
    // sixth of the decode of a small object otherwise).
    if (typeof raw === 'string' && raw.charCodeAt(3) === PLAIN && !this.secret && raw.startsWith('c1:')) {
      return parsePlain(raw, 4);
    }
    if (typeof raw === 'number') return raw;
    const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : raw;
    if (typeof text !== 'string') return INVALID;
    // Only a digit or '-' can start a bare integer; everything else skips the regex.
    const first = text.charCodeAt(0);
    if ((first === 45 || (first >= 48 && first <= 57)) && INTEGER.test(text)) {
      const integer = Number(text);
      if (Number.isSafeInteger(integer)) return integer;
    }
    let payload: string;
    if (text.startsWith('c1s:')) {
      const end = text.indexOf(':', 4);
      if (end < 0) return INVALID;
      payload = text.slice(end + 1);
      if (this.secret && !this.verify(key, payload, text.slice(4, end))) return INVALID;
    } else if (text.startsWith('c1:') && !this.secret) {
      payload = text.slice(3);
    } else {
      return INVALID;
    }
    try {
      if (payload[0] === 'z') payload = expand(payload);
      if (payload[0] === 'p') return parsePlain(payload, 1);
      if (payload[0] === 't') return fromTagged(JSON.parse(payload.slice(1)) as Tagged);
    } catch (error) {
      if (error instanceof OutdatedClassError) return OUTDATED;
      // Malformed JSON falls through to INVALID like any other foreign value.
    }
    return INVALID;
  }

  private mac(key: string, payload: string): string {
    return createHmac('sha256', this.secret as string)
      .update(key)
      .update('\0')
      .update(payload)
      .digest('base64url');
  }

  private verify(key: string, payload: string, given: string): boolean {
    const expected = Buffer.from(this.mac(key, payload));
    const actual = Buffer.from(given);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
}

/** `p`, the mark of a plain JSON payload, as a char code. */
const PLAIN = 112;

/**
 * The plain JSON payload whose JSON starts at `start` of `text` (its `p` just before), or INVALID when malformed.
 * JSON.parse never assigns through __proto__, and is not recursive: a plain payload needs no walk, but one long
 * enough to hide more than MAX_DEPTH levels is measured, as it could not be served.
 */
function parsePlain(text: string, start: number): unknown {
  try {
    const value = JSON.parse(text.slice(start)) as unknown;
    // The payload, its `p` included, is text.length - start + 1 long.
    return text.length - start + 1 > 2 * MAX_DEPTH && tooDeepToServe(value) ? INVALID : value;
  } catch {
    return INVALID;
  }
}

function compress(payload: string, compression: Compression): string {
  const input = Buffer.from(payload, 'utf8');
  // Brotli's default quality (11) is for static assets: about 50x slower than gzip on a 14 KB document here.
  // Quality 5 still stores less than gzip, at a cost close to gzip's.
  const packed =
    compression.algorithm === 'br'
      ? brotliCompressSync(input, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } })
      : gzipSync(input);
  // Base64 because the Redis client answers strings: still far smaller for the JSON worth compressing.
  const stored = (compression.algorithm === 'br' ? 'zb' : 'zg') + packed.toString('base64');
  return stored.length < payload.length ? stored : payload;
}

/** The payload inside a compressed one; throws (read as INVALID) for a foreign or oversized one. */
function expand(payload: string): string {
  const packed = Buffer.from(payload.slice(2), 'base64');
  const options = { maxOutputLength: MAX_EXPANDED };
  if (payload[1] === 'g') return gunzipSync(packed, options).toString('utf8');
  if (payload[1] === 'b') return brotliDecompressSync(packed, options).toString('utf8');
  throw new Error('unknown compression');
}
