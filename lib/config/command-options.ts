import { describeArgument } from './describe-argument.js';
import { CashewsConfigError } from '../errors.js';

/**
 * Checks the options object a `CacheService` command takes. Without it two mistakes pass silently and store entries
 * that never expire: a TTL where the options go (`set(key, value, 60_000)`, as cache-manager's `set` and `wrap` take
 * it) and a misspelt name (`{ tll: '1m' }`). Both now fail at the call, naming the command and the accepted names.
 * A `for…in` over the few names an object holds: a few nanoseconds on the hit path of `getOrSet`.
 */
export function checkCommandOptions(command: string, options: unknown, accepted: readonly string[]): void {
  // Small enough to inline into each command: the refusal, with its message, is built out of line.
  if (typeof options === 'object' && options !== null && !Array.isArray(options)) {
    for (const name in options) {
      let known = false;
      for (let i = 0; i < accepted.length; i++) if (accepted[i] === name) known = true;
      if (!known) refuse(command, options, accepted);
    }
  } else if (options !== undefined) {
    refuse(command, options, accepted); // undefined: what the command does without options (a default, or its own error)
  }
}

function refuse(command: string, options: unknown, accepted: readonly string[]): never {
  if (typeof options === 'object' && options !== null && !Array.isArray(options)) {
    for (const name in options) {
      if (!accepted.includes(name)) {
        throw new CashewsConfigError(`${command}: unknown option "${name}". Accepted: ${accepted.join(', ')}.`);
      }
    }
  }
  const ttlHint =
    accepted.includes('ttl') && (typeof options === 'number' || typeof options === 'string')
      ? ` A TTL goes in the options: { ttl: ${JSON.stringify(options)} } (cache-manager's positional TTL is served` +
        ` by the CacheManager provider, forRoot(url, { cacheManagerCompat: true })).`
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
