import { classByName, classOf, registerCacheableClass } from '../codec/class-registry.js';
import { toTagged } from '../codec/value-walker.js';
import { parsePositiveDuration } from '../duration.js';
import { CashewsConfigError } from '../errors.js';
import { MISS } from '../miss.js';
import { Recording } from '../streams/recording.js';
import { replay, StoredStream } from '../streams/stored-stream.js';

/** An error class whose thrown instances a storing decorator keeps (`cacheErrors`). */
export type CacheableErrorClass = abstract new (...args: never[]) => Error;

/** How a layer stores errors (`cacheErrors`, `onlyErrors`, `errorTtl`); normalized at decoration time. */
export interface ErrorPolicy {
  /** Thrown errors of these classes (or subclasses) are stored and re-thrown on a hit. */
  readonly classes: readonly CacheableErrorClass[];
  /** Successful results are not stored, only errors. */
  readonly only: boolean;
  /** Lifetime (ms) of a stored error. */
  readonly ttl: number;
}

/**
 * The stored form of an error: the registered name and fingerprint of its class, its message and its own fields.
 * Registered under a reserved name (on first use), so the codec rebuilds it like any registered class and a result
 * can never be mistaken for it: only an instance of this class, which no caller can reach, is a stored error.
 */
export class StoredError {
  constructor(
    /** Registered name of the error's class. */
    readonly n: string,
    /** Fingerprint of that class when it was stored: another definition reads as a miss. */
    readonly f: string,
    /** The message, when it is not among the own enumerable fields (`super(message)` makes it non-enumerable). */
    readonly m: string | undefined,
    /** Own enumerable fields that can be stored, without `stack` and `cause`. */
    readonly d: Record<string, unknown>,
  ) {}
}

const STORED_ERROR_NAME = 'cashews.StoredError';

/**
 * What a storing layer answers once it has a result or an error in hand: a `Failure` is thrown to the caller by
 * {@link settle}, anything else is returned. Carrying a stored or just thrown error as a value lets it pass through
 * single flight and stampede waiters like a result does.
 */
export class Failure {
  constructor(readonly error: unknown) {}
}

/** Errors rebuilt from the cache: the HTTP layer writes the `X-From-Cache` headers on their error response too. */
const restored = new WeakSet<object>();

/** Whether `error` was re-thrown from a stored error rather than thrown by the method. */
export function isErrorFromCache(error: unknown): boolean {
  return typeof error === 'object' && error !== null && restored.has(error);
}

/**
 * What one caller gets: the result, the error of a {@link Failure} thrown, its own replay of a stored stream, or its
 * own stream of a run being recorded (several callers may share one run or one stored entry).
 */
export function settle(answer: unknown): unknown {
  if (answer instanceof Failure) throw answer.error;
  if (answer instanceof Recording) return answer.consumer();
  if (answer instanceof StoredStream) return replay(answer);
  return answer;
}

/**
 * Whether a value a cache answered is served to the caller exactly as it is: not a miss, and nothing {@link fromStored}
 * or {@link settle} turns into something else (a stored error, a stored or recorded stream).
 */
export function servedAsStored(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return value !== MISS;
  return (
    !(value instanceof StoredError) &&
    !(value instanceof Failure) &&
    !(value instanceof Recording) &&
    !(value instanceof StoredStream)
  );
}

/**
 * Validates `cacheErrors`, `onlyErrors` and `errorTtl` at decoration time; `undefined` when no error is cached.
 * `ttl` is the decorator's fixed TTL (the default of `errorTtl`), or `undefined` when it is a function of the result.
 * @throws CashewsConfigError naming the option and what it accepts; for an unregistered class, how to register it.
 */
export function errorPolicy(
  where: string,
  options: { cacheErrors?: unknown; onlyErrors?: unknown; errorTtl?: unknown },
  ttl: number | undefined,
): ErrorPolicy | undefined {
  const { cacheErrors, onlyErrors, errorTtl } = options;
  if (onlyErrors !== undefined && typeof onlyErrors !== 'boolean') {
    throw new CashewsConfigError(`${where}: onlyErrors must be true or false (got ${describeValue(onlyErrors)}).`);
  }
  if (cacheErrors === undefined) {
    if (onlyErrors === true || errorTtl !== undefined) {
      throw new CashewsConfigError(
        `${where}: ${onlyErrors === true ? 'onlyErrors' : 'errorTtl'} applies to stored errors: give the error ` +
          'classes to store too, e.g. cacheErrors: [NotFoundError].',
      );
    }
    return undefined;
  }
  if (!Array.isArray(cacheErrors) || cacheErrors.length === 0) {
    throw new CashewsConfigError(
      `${where}: cacheErrors must be a non-empty array of error classes registered with @CacheableClass(), ` +
        `e.g. cacheErrors: [NotFoundError] (got ${describeValue(cacheErrors)}).`,
    );
  }
  for (const type of cacheErrors as unknown[]) {
    if (typeof type !== 'function' || !(type.prototype instanceof Error)) {
      throw new CashewsConfigError(
        `${where}: cacheErrors accepts classes extending Error only (got ${describeValue(type)}); e.g. cacheErrors: [NotFoundError].`,
      );
    }
    if (!classOf(type)) {
      const name = (type as { name: string }).name;
      throw new CashewsConfigError(
        `${where}: cacheErrors names ${name}, which is not a registered class, so a stored ${name} could not come ` +
          `back as one. Register it before this class is defined: put @CacheableClass() on ${name}, or call ` +
          `registerCacheableClass(${name}) (for a class you do not own, such as Nest's NotFoundException) at the top ` +
          `of this file. The module option \`classes\` registers too late for a decorator.`,
      );
    }
  }
  let lifetime: number;
  if (errorTtl !== undefined) lifetime = parsePositiveDuration(errorTtl, `${where} errorTtl`);
  else if (ttl !== undefined) lifetime = ttl;
  else {
    throw new CashewsConfigError(
      `${where}: with a ttl function, cacheErrors needs errorTtl (a duration such as '30s'): the ttl function ` +
        'takes results, not errors.',
    );
  }
  registerCacheableClass(StoredError, STORED_ERROR_NAME);
  return Object.freeze({
    classes: Object.freeze([...(cacheErrors as CacheableErrorClass[])]),
    only: onlyErrors === true,
    ttl: lifetime,
  });
}

function describeValue(value: unknown): string {
  if (typeof value === 'function') return value.name ? `function ${value.name}` : 'a function';
  return JSON.stringify(value) ?? String(value);
}

/** Whether `error` is one the layer stores. */
export function isCacheable(policy: ErrorPolicy | undefined, error: unknown): boolean {
  return policy !== undefined && policy.classes.some((type) => error instanceof type);
}

/**
 * The stored form of a cacheable `error`, recorded under its own class when that is registered, else under the
 * nearest registered class it extends (at worst the class named in `cacheErrors`); `undefined` when no class on its
 * prototype chain is registered any more (`unregisterCacheableClass`).
 */
export function toStoredError(error: Error): StoredError | undefined {
  for (let proto = Object.getPrototypeOf(error) as object | null; proto && proto !== Error.prototype;) {
    const type = Object.hasOwn(proto, 'constructor') ? (proto as { constructor: unknown }).constructor : undefined;
    const entry = typeof type === 'function' ? classOf(type) : undefined;
    if (entry) {
      const fields: Record<string, unknown> = {};
      for (const name of Object.keys(error)) {
        if (name === 'stack' || name === 'cause') continue;
        const value = (error as unknown as Record<string, unknown>)[name];
        if (storable(value)) Object.defineProperty(fields, name, { value, enumerable: true, writable: true });
      }
      const message = Object.prototype.propertyIsEnumerable.call(error, 'message') ? undefined : error.message;
      return new StoredError(entry.name, entry.fingerprint, message, fields);
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return undefined;
}

/** Fields that cannot be stored (functions, sockets, circular structures) are left out rather than fail the call. */
function storable(value: unknown): boolean {
  try {
    toTagged(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Rebuilds a stored error as an instance of its registered class (prototype restored, fields assigned as own data
 * properties, no constructor run, a fresh stack), or `undefined` when it cannot stand for one of `policy`'s classes:
 * the class is no longer registered, was redefined since, or is not a listed one. Nothing but a registered class
 * extending Error is ever created.
 */
export function restoreError(policy: ErrorPolicy | undefined, stored: StoredError): Error | undefined {
  if (!policy) return undefined;
  const { n: name, f: fingerprint, m: message, d: fields } = stored;
  if (typeof name !== 'string' || typeof fingerprint !== 'string') return undefined;
  if (message !== undefined && typeof message !== 'string') return undefined;
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return undefined;
  const entry = classByName(name);
  if (!entry || entry.fingerprint !== fingerprint || !(entry.type.prototype instanceof Error)) return undefined;
  const error = Object.create(entry.type.prototype as object) as Error;
  if (!policy.classes.some((type) => error instanceof type)) return undefined;
  for (const key of Object.keys(fields)) {
    Object.defineProperty(error, key, { value: fields[key], enumerable: true, writable: true, configurable: true });
  }
  if (message !== undefined) {
    Object.defineProperty(error, 'message', { value: message, enumerable: false, writable: true, configurable: true });
  }
  // The stack of the original throw was not stored (it names the server's files); this one shows the hit.
  Error.captureStackTrace(error, restoreError);
  restored.add(error);
  return error;
}

/**
 * What a stored value stands for in a layer with `policy`: a stored error becomes a {@link Failure} holding it
 * rebuilt, or {@link MISS} when it cannot be rebuilt; anything else is the stored result.
 */
export function fromStored(policy: ErrorPolicy | undefined, value: unknown): unknown {
  if (!(value instanceof StoredError)) return value;
  const error = restoreError(policy, value);
  return error === undefined ? MISS : new Failure(error);
}
