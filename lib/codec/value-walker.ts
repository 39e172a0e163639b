import { CacheValueError } from '../errors.js';
import { functionFingerprint } from '../keys/fingerprint.js';
import { classByName, classOf } from './class-registry.js';

/**
 * Deepest nesting a value may have, in containers (arrays, objects, Map, Set, class instances, dates...).
 * `JSON.stringify` and `structuredClone` overflow the stack a few thousand levels down, so a deeper value
 * could be stored but never served: it is refused at `set`, and found in a backend it reads as a miss.
 */
export const MAX_DEPTH = 1000;

/** Longest BigInt stored, in digits: parsing one costs more than linear time in its length. */
export const MAX_BIGINT_DIGITS = 100_000;

/**
 * Tagged tree that JSON can hold. Plain data stays as it is; other types become `{ $: tag, v }`. A user
 * object that itself has a `$` key is wrapped as `{ $: 'O', v }` so it can never be read as a tag.
 */
export type Tagged = null | boolean | number | string | Tagged[] | { [key: string]: Tagged };

/**
 * Counts tag objects made by {@link toTagged}. The walk is synchronous, so reading it before and after
 * one call tells whether that value needed any tag; plain JSON is then read back by `JSON.parse` alone.
 */
let tagsMade = 0;
export function tagCount(): number {
  return tagsMade;
}

/** Counts instances of registered classes tagged by {@link toTagged}, read like {@link tagCount}. */
let registeredMade = 0;
export function registeredCount(): number {
  return registeredMade;
}
function tag(value: { $: string; [field: string]: Tagged }): Tagged {
  tagsMade++;
  return value;
}

const TYPED_ARRAYS = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const;
type TypedArrayName = keyof typeof TYPED_ARRAYS;

/** What a codec refused, without where or under which key: see {@link refusalOf}. */
const refusals = new WeakMap<object, string>();

/**
 * A codec's refusal of a value: `what` names the kind of value refused ('a function', 'an instance of Date'),
 * without its path in the value or the key, so that a decorated method's store failures are told apart by reason.
 */
export function valueRefused(message: string, what: string): CacheValueError {
  const error = new CacheValueError(message);
  refusals.set(error, what);
  return error;
}

/**
 * What a codec refused (see {@link valueRefused}), or `undefined` for any other error: a value the codec cannot
 * store, as opposed to a bad argument. The answers are few (one per kind of value, or class name).
 */
export function refusalOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? refusals.get(error) : undefined;
}

function fail(path: string, what: string): never {
  throw valueRefused(
    `Cannot cache ${what} at ${path || 'the top level'}: values must be JSON data, undefined, Date, Map, Set, ` +
      `BigInt, Buffer or typed arrays, without cycles.`,
    what,
  );
}

function tooDeep(path: string): never {
  const at = path.length > 60 ? `${path.slice(0, 60)}...` : path;
  throw valueRefused(
    `Cannot cache a value nested deeper than ${MAX_DEPTH} levels (at ${at}): it could not be serialized back. ` +
      'Flatten the value or cache a part of it.',
    `a value nested deeper than ${MAX_DEPTH} levels`,
  );
}

function bytesOf(view: ArrayBufferView): string {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
}

/**
 * Converts a value into a {@link Tagged} tree, rejecting what cannot round-trip. `ancestors` holds the
 * objects on the current path only, so shared (non-circular) references are allowed and copied.
 */
export function toTagged(value: unknown, path = '', ancestors: object[] = []): Tagged {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? value : tag({ $: 'n', v: String(value) });
    case 'undefined':
      return tag({ $: 'u' });
    case 'bigint': {
      const digits = value.toString();
      if (digits.length > MAX_BIGINT_DIGITS + 1) fail(path, `a BigInt of more than ${MAX_BIGINT_DIGITS} digits`);
      return tag({ $: 'b', v: digits });
    }
    case 'function':
      return fail(path, 'a function');
    case 'symbol':
      return fail(path, 'a symbol');
  }
  if (value === null) return null;
  const object = value as object;
  if (ancestors.length >= MAX_DEPTH) tooDeep(path);
  if (ancestors.includes(object)) fail(path, 'a circular reference');
  ancestors.push(object);
  try {
    return tagObject(object, path, ancestors);
  } finally {
    ancestors.pop();
  }
}

function tagObject(object: object, path: string, ancestors: object[]): Tagged {
  if (Array.isArray(object)) {
    const out: Tagged[] = new Array<Tagged>(object.length);
    for (let i = 0; i < object.length; i++) out[i] = toTagged(object[i], `${path}[${i}]`, ancestors);
    return out;
  }
  if (object instanceof Date) return tag({ $: 'D', v: Number.isNaN(object.getTime()) ? null : object.toISOString() });
  if (object instanceof Map) {
    let i = 0;
    const entries: Tagged[] = [];
    for (const [k, v] of object) {
      entries.push([toTagged(k, `${path}<key ${i}>`, ancestors), toTagged(v, `${path}<value ${i}>`, ancestors)]);
      i++;
    }
    return tag({ $: 'M', v: entries });
  }
  if (object instanceof Set) {
    const items: Tagged[] = [];
    let i = 0;
    for (const item of object) items.push(toTagged(item, `${path}<item ${i++}>`, ancestors));
    return tag({ $: 'S', v: items });
  }
  if (Buffer.isBuffer(object)) return tag({ $: 'B', v: object.toString('base64') });
  if (ArrayBuffer.isView(object)) {
    const name = object.constructor.name;
    if (name in TYPED_ARRAYS) return tag({ $: 'T', t: name, v: bytesOf(object) });
    return fail(path, `a ${name}`);
  }
  if (object instanceof ArrayBuffer) return tag({ $: 'A', v: Buffer.from(object).toString('base64') });
  const type = classTypeOf(object);
  const registered = type && classOf(type);
  if (!registered) {
    const toJSON = (object as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return toTagged(toJSON.call(object), path, ancestors);
    if (object instanceof Promise) return fail(path, 'a Promise');
    if (object instanceof WeakMap || object instanceof WeakSet) return fail(path, 'a WeakMap/WeakSet');
  }
  // Own enumerable fields. A class instance also carries its class name and a fingerprint of the class
  // source: registered classes come back as instances, others as plain objects (see fromTagged).
  const out: { [key: string]: Tagged } = {};
  for (const key of Object.keys(object)) {
    define(out, key, toTagged((object as Record<string, unknown>)[key], path ? `${path}.${key}` : key, ancestors));
  }
  if (registered) {
    registeredMade++;
    return tag({ $: 'C', n: registered.name, f: registered.fingerprint, v: out });
  }
  if (type) return tag({ $: 'C', n: type.name, f: functionFingerprint(type as never), v: out });
  return Object.hasOwn(out, '$') ? tag({ $: 'O', v: out }) : out;
}

/**
 * Deep copy for the in-process store: the value `fromTagged(toTagged(value))` answers, with the same checks and
 * errors, in one walk. A plain object is copied by spread and a plain array by `[...array]`, then the nested values
 * that need it replaced: the copy keeps the shape of what it copies, which V8 lays out as compactly as the
 * original literal (an object rebuilt key by key took 409 B where its literal takes 345), and an array of constants
 * shares its copy-on-write elements. Spread defines own properties, so a `__proto__` key stays data. Any other
 * object (Date, Map, Set, bytes, class instances, `toJSON`) is copied through its tagged form. When the value holds an
 * instance of a registered class ({@link registeredCount} moved), the answer is not a copy to keep.
 */
export function copyOf(value: unknown, path = '', ancestors: object[] = []): unknown {
  if (typeof value !== 'object') {
    // Checks a BigInt's length, refuses functions and symbols.
    if (typeof value === 'bigint' || typeof value === 'function' || typeof value === 'symbol') toTagged(value, path);
    // -0 is stored as 0 in every form.
    return value === 0 ? 0 : value;
  }
  if (value === null) return null;
  if (ancestors.length >= MAX_DEPTH) tooDeep(path);
  if (ancestors.includes(value)) fail(path, 'a circular reference');
  ancestors.push(value);
  try {
    return copyObject(value, path, ancestors);
  } finally {
    ancestors.pop();
  }
}

function copyObject(object: object, path: string, ancestors: object[]): unknown {
  const proto = Object.getPrototypeOf(object) as unknown;
  if (Array.isArray(object)) {
    // Holes read as undefined, as in the tagged form. A subclass's iterator is not called: it becomes an Array.
    const source = object as unknown[];
    const out = proto === Array.prototype ? [...source] : new Array<unknown>(source.length);
    if (proto !== Array.prototype) for (let i = 0; i < source.length; i++) out[i] = source[i];
    for (let i = 0; i < out.length; i++) {
      const item = out[i];
      if (needsCopy(item)) out[i] = copyOf(item, `${path}[${i}]`, ancestors);
    }
    return out;
  }
  if (proto !== Object.prototype && proto !== null) {
    const before = registeredMade;
    const tagged = tagObject(object, path, ancestors);
    // Not rebuilt when it holds a registered class (it could be outdated already): the caller, seeing
    // registeredCount() move, keeps the whole value's tagged tree instead (see CloneCodec).
    return registeredMade === before ? fromTagged(tagged) : tagged;
  }
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return copyOf(toJSON.call(object), path, ancestors);
  // Spread would also copy symbol keys, which the tagged form leaves out.
  const out: Record<string, unknown> =
    Object.getOwnPropertySymbols(object).length === 0 ? { ...object } : byKeys(object as Record<string, unknown>);
  for (const key of Object.keys(out)) {
    const field = out[key];
    if (needsCopy(field)) define(out, key, copyOf(field, path ? `${path}.${key}` : key, ancestors));
  }
  return out;
}

/** Whether {@link copyOf} answers something else than the value itself, or may refuse it. */
function needsCopy(value: unknown): boolean {
  switch (typeof value) {
    case 'object':
      return value !== null;
    case 'number':
      return Object.is(value, -0);
    case 'string':
    case 'boolean':
    case 'undefined':
      return false;
    default:
      return true;
  }
}

function byKeys(object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(object)) define(out, key, object[key]);
  return out;
}

/**
 * Names of the classes, not registered, whose instances `value` holds where the codec stores them as their own
 * fields (a read answers them as plain objects), each once, at any depth the codec visits. Plain objects, arrays,
 * the built-in types the codec restores (Date, Map, Set, bytes) and instances with a `toJSON` (stored as what it
 * returns) are not named. A value holding no object answers at once. Meant for a value the codec just accepted:
 * the walk stops past {@link MAX_DEPTH} levels instead of following a cycle.
 */
export function unregisteredClassesIn(value: unknown): readonly string[] {
  if (typeof value !== 'object' || value === null) return NO_NAMES;
  const found: string[] = [];
  findUnregistered(value, 0, found);
  return found;
}

const NO_NAMES: readonly string[] = Object.freeze([]);

function findUnregisteredIn(value: unknown, depth: number, found: string[]): void {
  if (typeof value === 'object' && value !== null) findUnregistered(value, depth, found);
}

function findUnregistered(object: object, depth: number, found: string[]): void {
  if (depth > MAX_DEPTH) return;
  const inner = depth + 1;
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) findUnregisteredIn(object[i], inner, found);
    return;
  }
  const proto = Object.getPrototypeOf(object) as unknown;
  let type: (abstract new () => object) | undefined;
  if (proto !== Object.prototype && proto !== null) {
    if (object instanceof Date || ArrayBuffer.isView(object) || object instanceof ArrayBuffer) return;
    if (object instanceof Map) {
      for (const [k, v] of object) {
        findUnregisteredIn(k, inner, found);
        findUnregisteredIn(v, inner, found);
      }
      return;
    }
    if (object instanceof Set) {
      for (const item of object) findUnregisteredIn(item, inner, found);
      return;
    }
    type = classTypeOf(object);
  }
  const registered = type !== undefined && classOf(type) !== undefined;
  if (!registered) {
    if (typeof (object as { toJSON?: unknown }).toJSON === 'function') return;
    if (type !== undefined && !found.includes(type.name)) found.push(type.name);
  }
  for (const key of Object.keys(object)) findUnregisteredIn((object as Record<string, unknown>)[key], inner, found);
}

/** The class of an instance, or `undefined` for a plain object (`Object.prototype` or `null` prototype). */
function classTypeOf(object: object): (abstract new () => object) | undefined {
  const proto = Object.getPrototypeOf(object) as { constructor?: unknown } | null;
  if (proto === null || proto === Object.prototype) return undefined;
  const type = Object.hasOwn(proto, 'constructor') ? proto.constructor : undefined;
  if (typeof type !== 'function' || type.name === '' || type === Object) return undefined;
  return type as abstract new () => object;
}

/**
 * Thrown while decoding a class instance stored by another definition of its (registered) class: the
 * codec turns it into {@link OUTDATED}, so the whole value reads as a miss instead of a wrong shape.
 */
export class OutdatedClassError extends Error {
  constructor(readonly className: string) {
    super(`Stored instance of ${className} was written by another definition of the class.`);
    this.name = 'OutdatedClassError';
  }
}

/** Assigns without ever triggering the `__proto__` setter, so decoded data cannot change a prototype. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') defineOwn(target, key, value);
  else target[key] = value;
}

/** `key` made an own data property of `target` as assignment makes one, without running any setter on the way. */
function defineOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function invalid(): never {
  throw new CacheValueError('Stored value is not in the cashews format.');
}

function bytes(v: Tagged | undefined): Buffer {
  if (typeof v !== 'string') invalid();
  return Buffer.from(v, 'base64');
}

/** A fresh ArrayBuffer holding exactly the decoded bytes (Buffer.from may share a pooled one). */
function ownBuffer(v: Tagged | undefined): ArrayBuffer {
  const source = bytes(v);
  const copy = new Uint8Array(source.byteLength);
  copy.set(source);
  return copy.buffer;
}

/**
 * Rebuilds a value from a {@link Tagged} tree. Only the fixed set of built-in types above can be created.
 * A tree nested deeper than {@link MAX_DEPTH} is refused before the walk can overflow the stack.
 */
export function fromTagged(tagged: Tagged): unknown {
  return rebuild(tagged, 0);
}

/**
 * Whether a value parsed from plain JSON is nested deeper than {@link fromTagged} accepts (so it could not be
 * serialized back). Stops at the first level too deep; never recurses past the limit.
 */
export function tooDeepToServe(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (depth > MAX_DEPTH) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (tooDeepToServe(value[i], depth + 1)) return true;
    return false;
  }
  for (const key in value) if (tooDeepToServe((value as Record<string, unknown>)[key], depth + 1)) return true;
  return false;
}

/**
 * `depth` counts the containers around `tagged`. Decoding accepts one level more than {@link toTagged}
 * writes: a leaf such as `undefined` or NaN at the deepest level is itself an object in the tree.
 */
function rebuild(tagged: Tagged, depth: number): unknown {
  if (tagged === null || typeof tagged !== 'object') return tagged;
  if (depth > MAX_DEPTH) invalid();
  const inner = depth + 1;
  if (Array.isArray(tagged)) return list(tagged, inner);
  if (!Object.hasOwn(tagged, '$')) return plain(tagged, inner);
  const v = tagged.v;
  switch (tagged.$) {
    case 'u':
      return undefined;
    case 'n':
      return Number(v);
    case 'b':
      if (typeof v !== 'string' || v.length > MAX_BIGINT_DIGITS + 1 || !/^-?\d+$/.test(v)) invalid();
      return BigInt(v);
    case 'D':
      return new Date(typeof v === 'string' ? v : NaN);
    case 'M':
      if (!Array.isArray(v)) invalid();
      return new Map(
        v.map((pair) => (Array.isArray(pair) ? [rebuild(pair[0], inner), rebuild(pair[1], inner)] : invalid())),
      );
    case 'S':
      if (!Array.isArray(v)) invalid();
      return new Set(list(v, inner));
    case 'B':
      return bytes(v);
    case 'A':
      return ownBuffer(v);
    case 'T': {
      const name = tagged.t;
      if (typeof name !== 'string' || !Object.hasOwn(TYPED_ARRAYS, name)) invalid();
      return new TYPED_ARRAYS[name as TypedArrayName](ownBuffer(v));
    }
    case 'O':
      if (v === null || typeof v !== 'object' || Array.isArray(v)) invalid();
      return plain(v, inner);
    case 'C':
      if (v === null || typeof v !== 'object' || Array.isArray(v)) invalid();
      return instance(tagged.n, tagged.f, v, inner);
    default:
      return invalid();
  }
}

function list(tagged: Tagged[], depth: number): unknown[] {
  const out = new Array<unknown>(tagged.length);
  for (let i = 0; i < tagged.length; i++) out[i] = rebuild(tagged[i], depth);
  return out;
}

function plain(tagged: { [key: string]: Tagged }, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(tagged)) define(out, key, rebuild(tagged[key], depth));
  return out;
}

/**
 * The stored fields of a registered class's instance, made own data properties as they were when stored. Never by
 * assignment: that would run a setter the class (or a base class) declares under a field's name, with whatever the
 * backend holds (anyone able to write to Redis could call it), or fail on an inherited getter that the stored own field
 * shadowed, so that such a value could never be read back.
 */
function fieldsOf(tagged: { [key: string]: Tagged }, depth: number, out: Record<string, unknown>): unknown {
  for (const key of Object.keys(tagged)) defineOwn(out, key, rebuild(tagged[key], depth));
  return out;
}

/**
 * A stored class instance. Only a class in the registry can be named: its prototype is restored and the
 * own fields defined (no constructor, setter or other code of the class runs). An unregistered name gives a plain
 * object; a registered class whose fingerprint differs throws {@link OutdatedClassError}.
 */
function instance(
  name: Tagged | undefined,
  stored: Tagged | undefined,
  fields: { [key: string]: Tagged },
  depth: number,
): unknown {
  if (typeof name !== 'string' || typeof stored !== 'string') invalid();
  const entry = classByName(name);
  if (!entry) return plain(fields, depth);
  if (entry.fingerprint !== stored) throw new OutdatedClassError(name);
  return fieldsOf(fields, depth, Object.create(entry.type.prototype as object) as Record<string, unknown>);
}
