import { describeArgument } from './describe-argument.js';
import { CashewsConfigError } from '../errors.js';

/**
 * Checks the options object a `CacheService` command takes. Without it two mistakes pass silently and store entries
 * that never expire: a TTL where the options go (`set(key, value, 60_000)`, as cache-manager's `set` and `wrap` take
 * it) and a misspelt name (`{ tll: '1m' }`). Both now fail at the call, naming the command and the accepted names.
 * A `for…in` over the few names an object holds: a few nanoseconds on the hit path of `getOrSet`. Only its own names
 * count, and an object that cannot hold options (a `Map`, a `Date`, `new Number(60_000)`) is refused too.
 */
export function checkCommandOptions(command: string, options: unknown, accepted: readonly string[]): void {
  // Small enough to inline into each command: the refusal, with its message, is built out of line.
  if (typeof options === 'object' && options !== null) {
    const proto: unknown = Object.getPrototypeOf(options);
    // A Map, a Date, a boxed number or an array holds no option names: it would pass as an empty object.
    if (proto !== Object.prototype && proto !== null && !isOptionsObject(options)) refuse(command, options, accepted);
    for (const name in options) {
      // Own names only: a property added to Object.prototype (an old polyfill) is nobody's option.
      if (!hasOwn(options, name)) continue;
      let known = false;
      for (let i = 0; i < accepted.length; i++) if (accepted[i] === name) known = true;
      if (!known) refuse(command, options, accepted);
    }
  } else if (options !== undefined) {
    refuse(command, options, accepted); // undefined: what the command does without options (a default, or its own error)
  }
}

const hasOwn = (object: object, name: string): boolean => Object.prototype.hasOwnProperty.call(object, name);

/** An object that is not a plain one may still be a bag of options: an instance of the caller's own class. */
function isOptionsObject(options: object): boolean {
  return Object.prototype.toString.call(options) === '[object Object]';
}

/** Commands shaped like cache-manager's (`set(key, value, ttl)`, `wrap(key, fn, ttl)`, `mset(entries, ttl)`). */
const CACHE_MANAGER_SHAPED = new Set(['set()', 'getOrSet()', 'setMany()']);

function refuse(command: string, options: unknown, accepted: readonly string[]): never {
  if (typeof options === 'object' && options !== null && isOptionsObject(options)) {
    for (const name in options) {
      if (hasOwn(options, name) && !accepted.includes(name)) {
        throw new CashewsConfigError(`${command}: unknown option "${name}". Accepted: ${accepted.join(', ')}.`);
      }
    }
  }
  // A bare number or string is a TTL only where the TTL is all the options hold, or the command is shaped like
  // cache-manager's: for sliceIncr(key, start, end, 100) or incrBits(key, indexes, 4) it is `max` or `size`.
  const cacheManagerShaped = CACHE_MANAGER_SHAPED.has(command);
  const ttlHint =
    (cacheManagerShaped || (accepted.length === 1 && accepted[0] === 'ttl')) &&
    (typeof options === 'number' || typeof options === 'string')
      ? ` A TTL goes in the options: { ttl: ${JSON.stringify(options)} }` +
        (cacheManagerShaped
          ? " (cache-manager's positional TTL is served by the CacheManager provider, forRoot(url, { cacheManagerCompat: true }))."
          : '.')
      : '';
  throw new CashewsConfigError(
    `${command}: the options must be an object with any of ${accepted.join(', ')}; got ${describeArgument(options)}.${ttlHint}`,
  );
}

/** The option names of each command that takes an options object. */
export const COMMAND_OPTIONS = {
  set: ['ttl', 'exist', 'tags'],
  setMany: ['ttl'],
  getOrSet: ['ttl'],
  incr: ['ttl'],
  isLocked: ['wait', 'step'],
  lock: ['wait', 'step'],
  getBits: ['size'],
  incrBits: ['size', 'by', 'ttl'],
  sliceIncr: ['max', 'ttl'],
  setAdd: ['ttl'],
  setRaw: ['ttl'],
  transaction: ['mode', 'timeout', 'lockTtl'],
} as const satisfies Record<string, readonly string[]>;
