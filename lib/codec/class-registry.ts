import { CashewsConfigError } from '../errors.js';
import { functionFingerprint } from '../keys/fingerprint.js';

/** A class whose instances may be rebuilt from the cache. */
export type CacheableClassType = abstract new (...args: never[]) => object;

/** What the registry knows of one class. */
export interface ClassEntry {
  readonly type: CacheableClassType;
  /** Name written into stored values (`@CacheableClass({ name })`, default the class name). */
  readonly name: string;
  /** Fingerprint of the class source: a stored instance of another definition reads as a miss. */
  readonly fingerprint: string;
}

const byName = new Map<string, ClassEntry>();
const byType = new WeakMap<object, ClassEntry>();
const NAME = /^[A-Za-z_$][A-Za-z0-9_$.-]*$/;
/** Bumped on every change of the registry, so copies held in memory know when to rebuild (see CloneCodec). */
let version = 0;

/** Changes whenever a class is registered, replaced or unregistered. */
export function registryVersion(): number {
  return version;
}

/**
 * Registers a class whose instances come back from the cache as instances (prototype restored, own
 * fields assigned; the constructor is never called). Registering another class under a name already
 * taken replaces it: the newest definition wins, as after a deploy or a hot reload.
 *
 * @throws CashewsConfigError for something that is not a class or a malformed name.
 * @example
 * ```ts
 * class Money {
 *   constructor(
 *     readonly amount: number,
 *     readonly currency: string,
 *   ) {}
 * }
 * registerCacheableClass(Money); // what the CacheableClass decorator does
 * ```
 */
export function registerCacheableClass(type: CacheableClassType, name: string = type?.name): ClassEntry {
  if (typeof type !== 'function' || typeof type.prototype !== 'object') {
    throw new CashewsConfigError('@CacheableClass / the `classes` option accepts classes only.');
  }
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new CashewsConfigError(
      `Cacheable class name ${JSON.stringify(name)} must start with a letter, "_" or "$" and hold only letters, ` +
        'digits, "_", "$", "." and "-".',
    );
  }
  const existing = byType.get(type);
  if (existing && existing.name === name) return existing;
  const entry: ClassEntry = { type, name, fingerprint: functionFingerprint(type as never) };
  byName.set(name, entry);
  byType.set(type, entry);
  version++;
  return entry;
}

/** Registry entry of a class by its stored name, or `undefined` when no such class is registered. */
export function classByName(name: string): ClassEntry | undefined {
  return byName.get(name);
}

/** Registry entry of an instance's class, or `undefined` when it is not registered. */
export function classOf(type: object): ClassEntry | undefined {
  return byType.get(type);
}

/**
 * Removes a class from the registry (tests, hot reload).
 * @example
 * ```ts
 * class Money {}
 * beforeAll(() => registerCacheableClass(Money));
 * afterAll(() => unregisterCacheableClass(Money));
 * ```
 */
export function unregisterCacheableClass(type: CacheableClassType): void {
  const entry = byType.get(type);
  if (!entry) return;
  byType.delete(type);
  if (byName.get(entry.name) === entry) byName.delete(entry.name);
  version++;
}
