/**
 * Formatters applied to placeholder values in key templates (`{q:hash}`, `{name:lower}`). Looked up once when a
 * template is compiled, so registering or failing to find one never costs anything per call.
 */
import { createHash } from 'node:crypto';
import { CacheValueError, CashewsConfigError } from '../errors.js';
import { readsAsTyped, renderArg, renderKeyPart } from './stable-render.js';

/**
 * Turns a placeholder value into text; the key compiler escapes the result, so it may return anything. `args` are
 * the formatter's arguments in the template (`{q:hash(sha256)}` → `['sha256']`), fixed when the template is
 * compiled. Answering `undefined` means "no value": a strict decorator key then refuses the call like a missing
 * placeholder.
 */
export type KeyFormatter = (value: unknown, ...args: string[]) => string | undefined;

function length(value: unknown): string {
  if (value === null || value === undefined) return '0';
  if (typeof value === 'string' || Array.isArray(value) || ArrayBuffer.isView(value)) {
    return String((value as { length: number }).length);
  }
  if (value instanceof Map || value instanceof Set) return String(value.size);
  if (typeof value === 'object') return String(Object.keys(value).length);
  throw new CacheValueError(`The "len" key formatter needs a string, array, Map, Set or object, got ${typeof value}.`);
}

const LONE_SURROGATE = /\p{Cs}/u;
const ISO_DATE = /^(?:[+-]\d{6}|\d{4})-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * Whether a string could equal {@link renderArg}'s text of a value that is not a string (a number, a date, an
 * object…), or would not survive UTF-8 (a lone surrogate), or starts with the NUL that marks such strings.
 */
function ambiguousText(text: string): boolean {
  const first = text.charAt(0);
  return (
    first === '\u0000' ||
    first === '{' ||
    first === '[' ||
    first === '~' ||
    first === '=' ||
    readsAsTyped(text) ||
    ISO_DATE.test(text) ||
    text === 'Invalid Date' ||
    text.startsWith('Map{') ||
    text.startsWith('Set[') ||
    text.startsWith('Symbol.for(') ||
    LONE_SURROGATE.test(text)
  );
}

const HASHES = new Set(['sha1', 'sha256', 'sha512', 'md5']);

function hash(value: unknown, algorithm = 'sha1'): string {
  // A 40-hex digest can never equal the markers, so null, undefined, 'null' and 'undefined' stay apart.
  if (value === null || value === undefined) return renderKeyPart(value);
  // What is hashed is renderArg's text (a string's is itself), so digests can be recomputed from it; a string
  // that could equal another type's text (`'42'`, `'{"a":1}'`) hashes its escaped key part behind a NUL instead,
  // which no other text starts with: 42 and '42', {a: 1} and '{"a":1}', '\uD800' and '\uFFFD' differ.
  const text =
    typeof value !== 'string' ? renderArg(value) : ambiguousText(value) ? `\u0000${renderKeyPart(value)}` : value;
  return createHash(algorithm).update(text).digest('hex');
}

/**
 * `{token:jwt(sub)}`: a claim of a JWT's payload, read WITHOUT verifying the signature (anyone can forge one), so
 * only for keys of calls that an auth guard has already verified. `Bearer ` is stripped; a malformed token or a
 * missing claim is "no value".
 */
function jwt(value: unknown, claim: string): string | undefined {
  if (typeof value !== 'string') return undefined;
  const token = value.startsWith('Bearer ') ? value.slice(7) : value;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    if (typeof payload !== 'object' || payload === null || !Object.hasOwn(payload, claim)) return undefined;
    const found = (payload as Record<string, unknown>)[claim];
    return found === undefined || found === null ? undefined : renderArg(found);
  } catch {
    return undefined;
  }
}

/** Checks a built-in formatter's arguments when a template is compiled: the error text, or `undefined`. */
const CHECKS: ReadonlyMap<string, (args: readonly string[]) => string | undefined> = new Map([
  [
    'hash',
    (args: readonly string[]) =>
      args.length > 1 || (args.length === 1 && !HASHES.has(args[0]))
        ? `hash takes one optional algorithm: ${[...HASHES].join(', ')} (default sha1)`
        : undefined,
  ],
  ['jwt', (args: readonly string[]) => (args.length === 1 ? undefined : 'jwt takes the claim to read, e.g. jwt(sub)')],
]);

/** The error text for a built-in formatter given arguments it does not take, or `undefined`. */
export function checkFormatterArgs(name: string, args: readonly string[]): string | undefined {
  const check = CHECKS.get(name);
  if (check) return check(args);
  return BUILT_IN.has(name) && args.length ? `${name} takes no arguments` : undefined;
}

const BUILT_IN: ReadonlyMap<string, KeyFormatter> = new Map<string, KeyFormatter>([
  ['hash', hash],
  ['lower', (value) => renderArg(value).toLowerCase()],
  ['upper', (value) => renderArg(value).toUpperCase()],
  ['len', length],
  ['jwt', jwt as KeyFormatter],
]);

const custom = new Map<string, KeyFormatter>();

const FORMATTER_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names of the built-in formatters: `hash`, `lower`, `upper`, `len`, `jwt`. */
export const BUILT_IN_KEY_FORMATTERS: readonly string[] = [...BUILT_IN.keys()];

/**
 * Registers a formatter usable in key templates as `{param:name}`. Register before the decorated classes are
 * compiled (module import time is fine): templates resolve formatters when they are compiled.
 *
 * Throws {@link CashewsConfigError} for a built-in name, a name that is not an identifier, a non-function, or a
 * name already registered with a different function (registering the same function again is a no-op).
 *
 * @example
 * ```ts
 * registerKeyFormatter('tenant', (user) => String((user as { tenantId: string }).tenantId));
 * // then, on a method: ;@Cache({ key: 'report:{user:tenant}:{day}' })
 * ```
 */
export function registerKeyFormatter(name: string, fn: KeyFormatter): void {
  if (typeof name !== 'string' || !FORMATTER_NAME.test(name)) {
    throw new CashewsConfigError(
      `Key formatter name ${JSON.stringify(name)} is invalid: use letters, digits and "_", not starting with a digit.`,
    );
  }
  if (BUILT_IN.has(name)) {
    throw new CashewsConfigError(`Key formatter "${name}" is built in and cannot be replaced; pick another name.`);
  }
  if (typeof fn !== 'function') {
    throw new CashewsConfigError(`Key formatter "${name}" must be a function (value) => string.`);
  }
  const existing = custom.get(name);
  if (existing !== undefined && existing !== fn) {
    throw new CashewsConfigError(`Key formatter "${name}" is already registered with a different function.`);
  }
  custom.set(name, fn);
}

/** The formatter registered under `name`, or `undefined`. */
export function findKeyFormatter(name: string): KeyFormatter | undefined {
  return BUILT_IN.get(name) ?? custom.get(name);
}

/** All formatter names currently usable, for error messages. */
export function keyFormatterNames(): string[] {
  return [...BUILT_IN.keys(), ...custom.keys()];
}
