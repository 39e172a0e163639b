/**
 * Stable text for method arguments, used to build cache keys. Runs on every cached call (hits included), so
 * primitives take a branch-only fast path and only objects pay for sorting and recursion.
 */
import { CacheValueError } from '../errors.js';
import { escapeKeyPart } from './escape-key-part.js';

/**
 * Key parts for `null` and `undefined`. {@link escapeKeyPart} only ever emits `%` followed by two hex digits, so
 * no string argument can produce these, which keeps `null`, `undefined`, `'null'` and `'undefined'` apart.
 */
export const NULL_KEY_PART = '%null';
export const UNDEFINED_KEY_PART = '%undefined';

/**
 * Stable, human-readable text for a value, not yet escaped for a key (see {@link renderKeyPart} for that).
 *
 * - Strings as themselves, numbers/booleans/BigInts as their digits or words, `null` → `'null'`,
 *   `undefined` → `'undefined'`, `Date` → ISO string (`'Invalid Date'` when invalid).
 * - Inside objects and arrays, strings are JSON-quoted so `{a: null}` and `{a: 'null'}` differ.
 * - Object keys sorted (own enumerable string keys; `undefined` values omitted as in JSON), arrays in order,
 *   `Map` entries and `Set` members sorted by their rendering, `toJSON()` honoured (ObjectId, Decimal, Buffer…).
 * - Functions and circular structures throw {@link CacheValueError}: no stable text exists for them.
 *
 * @example
 * ```ts
 * renderArg({ b: 2, a: [1, 'x'] }); // '{"a":[1,"x"],"b":2}'
 * renderArg(new Date(0));          // '1970-01-01T00:00:00.000Z'
 * ```
 */
export function renderArg(value: unknown): string {
  // Deliberately repeats renderNested's primitive cases: every default key renders its arguments here, and
  // answering primitives without the extra call measured ~3% of @Cache hit throughput.
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
    case 'symbol':
      return String(value);
    case 'function':
      throw functionError(value);
  }
  if (value === null) return 'null';
  if (value instanceof Date) return dateText(value);
  return renderNested(value, new Set());
}

/**
 * A value's part of a key: {@link renderArg} then {@link escapeKeyPart}, except `null` and `undefined`, which get
 * markers ({@link NULL_KEY_PART}, {@link UNDEFINED_KEY_PART}) that no escaped string can equal.
 *
 * Numbers and strings with the same text share a part on purpose (`42` and `'42'`), so a route parameter and
 * the parsed number it became address the same entry.
 *
 * @example
 * ```ts
 * renderKeyPart('a:b');     // 'a%3Ab'
 * renderKeyPart(null);      // '%null'
 * renderKeyPart({ q: '*' }); // '%7B"q"%3A"%2A"%7D'
 * ```
 */
export function renderKeyPart(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return escapeKeyPart(value);
    case 'number':
    case 'boolean':
    case 'bigint':
      // Their text is digits, signs, `.`, `e`, `+` or words: nothing to escape.
      return String(value);
    case 'undefined':
      return UNDEFINED_KEY_PART;
  }
  if (value === null) return NULL_KEY_PART;
  return escapeKeyPart(renderArg(value));
}

function dateText(date: Date): string {
  return Number.isNaN(date.getTime()) ? 'Invalid Date' : date.toISOString();
}

function functionError(fn: unknown): CacheValueError {
  const name = typeof fn === 'function' && fn.name ? ` "${fn.name}"` : '';
  return new CacheValueError(
    `Cannot build a cache key from function argument${name}: give the method a key template that names the other arguments.`,
  );
}

function renderNested(value: unknown, stack: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
    case 'symbol':
      return String(value);
    case 'function':
      throw functionError(value);
  }
  if (value === null) return 'null';
  const obj = value as object;
  if (obj instanceof Date) return JSON.stringify(dateText(obj));
  if (stack.has(obj)) throw new CacheValueError('Cannot build a cache key from a circular structure.');
  stack.add(obj);
  try {
    return renderObject(obj, stack);
  } finally {
    stack.delete(obj);
  }
}

function renderObject(obj: object, stack: Set<object>): string {
  const toJSON: unknown = (obj as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    const json: unknown = toJSON.call(obj, '');
    if (json !== obj) return renderNested(json, stack);
  }
  if (Array.isArray(obj)) {
    const items: string[] = [];
    for (let i = 0; i < obj.length; i++) items.push(renderNested(obj[i], stack));
    return `[${items.join(',')}]`;
  }
  if (obj instanceof Map) {
    const entries: string[] = [];
    for (const [k, v] of obj) entries.push(`${renderNested(k, stack)}=>${renderNested(v, stack)}`);
    return `Map{${entries.sort().join(',')}}`;
  }
  if (obj instanceof Set) {
    const members: string[] = [];
    for (const member of obj) members.push(renderNested(member, stack));
    return `Set[${members.sort().join(',')}]`;
  }
  const record = obj as Record<string, unknown>;
  const fields: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const field = record[key];
    if (field !== undefined) fields.push(`${JSON.stringify(key)}:${renderNested(field, stack)}`);
  }
  return `{${fields.join(',')}}`;
}
