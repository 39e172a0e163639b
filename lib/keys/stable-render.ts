/**
 * Stable text for method arguments, used to build cache keys. Runs on every cached call (hits included), so
 * primitives take a branch-only fast path and only objects pay for sorting and recursion.
 */
import { renderKeyType } from './key-types.js';
import { CacheValueError } from '../errors.js';
import { escapeKeyPart } from './escape-key-part.js';

/**
 * Key parts of `null`, `undefined`, dates and objects. A string's part is {@link escapeKeyPart}'s output, in which
 * every `%` is followed by two upper-case hex digits; these start with `%` and a character that is not one (`n`,
 * `u`, `@`, `o`), so no string can produce them, and the marks differ from each other. That keeps `null` and
 * `'null'`, a `Date` and its ISO text, an object and its JSON text apart. (Numbers, BigInts and booleans are
 * written bare, and strings that read like them are quoted: see {@link renderKeyPart}.)
 */
export const NULL_KEY_PART = '%null';
export const UNDEFINED_KEY_PART = '%undefined';
/** Valid and invalid dates: `%@2024-01-02T03%3A04%3A05.000Z`. */
export const DATE_KEY_MARK = '%@';
/** Objects, arrays, Maps, Sets and registered symbols: `%o` then their escaped {@link renderArg} text. */
export const OBJECT_KEY_MARK = '%o';

/**
 * Stable, human-readable text for a value, not yet escaped for a key (see {@link renderKeyPart} for that). Used
 * by the key formatters (`{q:lower}`), which treat a value as text; the key itself types every value.
 *
 * - Strings as themselves, numbers/booleans as their digits or words, BigInts with an `n` (`42n`),
 *   `null` → `'null'`, `undefined` → `'undefined'`, `Date` → ISO string (`'Invalid Date'` when invalid).
 * - Inside objects and arrays every value is typed: strings are JSON-quoted (lone surrogates as `\udXXX`), so
 *   `{a: null}`, `{a: 'null'}` and `{a: '{}'}` vs `{a: {}}` differ; `toJSON()` results are marked with `~`
 *   (`{"at":~"1970-01-01T00:00:00.000Z"}`), so an ObjectId differs from its hex string.
 * - Object keys sorted (own enumerable string keys; `undefined` values omitted as in JSON), arrays in order,
 *   `Map` entries and `Set` members sorted by their rendering, `toJSON()` honoured (ObjectId, Decimal, Buffer…).
 * - Functions, symbols not made by `Symbol.for` and circular structures throw {@link CacheValueError}: no stable
 *   text exists for them.
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
      return numberText(value);
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'function':
      throw functionError(value);
  }
  if (value === null) return 'null';
  if (value instanceof Date) return dateText(value);
  return renderNested(value, new Set());
}

/**
 * A value's part of a key; two different values never share one, even once written to Redis as UTF-8.
 *
 * - Strings are {@link escapeKeyPart}ed and otherwise left as they are, except, as YAML does, a string that reads
 *   as a number, a BigInt or a boolean, which is quoted (`'42'`, `'true'`), and a leading `'`, escaped (`%27`).
 * - Numbers, BigInts (`42n`) and booleans are written bare.
 * - `null`, `undefined`, dates and objects carry a mark no string can produce (see {@link NULL_KEY_PART}).
 *
 * @example
 * ```ts
 * renderKeyPart('a:b');      // 'a%3Ab'
 * renderKeyPart(42);         // '42'
 * renderKeyPart('42');       // "'42'"
 * renderKeyPart(null);       // '%null'
 * renderKeyPart({ q: '*' }); // '%o%7B"q"%3A"%2A"%7D'
 * ```
 */
export function renderKeyPart(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return stringKeyPart(value);
    case 'number':
      // Digits, signs, `.`, `e`, `+`, `NaN` or `Infinity`: nothing to escape.
      return numberText(value);
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return UNDEFINED_KEY_PART;
  }
  if (value === null) return NULL_KEY_PART;
  if (value instanceof Date) return DATE_KEY_MARK + escapeKeyPart(dateText(value));
  return OBJECT_KEY_MARK + escapeKeyPart(renderArg(value));
}

const BIGINT_TEXT = /^-?(?:0|[1-9][0-9]*)n$/;

/**
 * A number's text, `-0` for negative zero: `String(-0)` is `'0'`, and a JSON body can send `-0` (`JSON.parse('-0')`),
 * which a method may well treat apart from `0` (`Math.sign`, `1 / x`, `Object.is`).
 */
function numberText(value: number): string {
  return value === 0 && 1 / value < 0 ? '-0' : String(value);
}

/** Whether `text` is exactly how {@link renderKeyPart} writes some number, BigInt or boolean. */
export function readsAsTyped(text: string): boolean {
  const first = text.charCodeAt(0);
  // Cheap filter first: such texts start with a digit, `-`, `I`(nfinity), `N`(aN), `t`(rue) or `f`(alse).
  if (!(
    (first >= 0x30 && first <= 0x39) ||
    first === 0x2d ||
    first === 0x49 ||
    first === 0x4e ||
    first === 0x74 ||
    first === 0x66
  )) {
    return false;
  }
  return (
    text === 'true' || text === 'false' || text === '-0' || String(Number(text)) === text || BIGINT_TEXT.test(text)
  );
}

function stringKeyPart(text: string): string {
  // A quote starts only the quoted form; such texts hold nothing escapeKeyPart would change.
  if (text.charCodeAt(0) === 0x27) return `%27${escapeKeyPart(text.slice(1))}`;
  return readsAsTyped(text) ? `'${text}'` : escapeKeyPart(text);
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

function symbolText(symbol: symbol): string {
  const registered = Symbol.keyFor(symbol);
  if (registered === undefined) {
    throw new CacheValueError(
      `Cannot build a cache key from ${String(symbol)}: only symbols made by Symbol.for() have a stable identity.`,
    );
  }
  return `Symbol.for(${JSON.stringify(registered)})`;
}

function renderNested(value: unknown, stack: Set<object>): string {
  switch (typeof value) {
    case 'string':
      // Well-formed JSON.stringify writes a lone surrogate as `\udXXX`, so it stays apart from U+FFFD.
      return JSON.stringify(value);
    case 'number':
      return numberText(value);
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return symbolText(value);
    case 'function':
      throw functionError(value);
  }
  if (value === null) return 'null';
  const obj = value as object;
  if (obj instanceof Date) return `~${JSON.stringify(dateText(obj))}`;
  if (stack.has(obj)) throw new CacheValueError('Cannot build a cache key from a circular structure.');
  stack.add(obj);
  try {
    return renderObject(obj, stack);
  } finally {
    stack.delete(obj);
  }
}

function renderObject(obj: object, stack: Set<object>): string {
  // `=` starts no other rendering: a registered type's text never equals a string's or another type's.
  const typed = renderKeyType(obj);
  if (typed !== undefined) return typed;
  const toJSON: unknown = (obj as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    const json: unknown = toJSON.call(obj, '');
    // `~` marks "what toJSON() gave": no other rendering starts with it, so an ObjectId is not its hex string.
    if (json !== obj) return `~${renderNested(json, stack)}`;
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
