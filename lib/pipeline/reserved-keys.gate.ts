import { isReservedKey, reservedKeyError } from '../keys/protected-keys.js';
import type { CommandCall, CommandName, NextCommand } from './command.js';
import type { PipelineGate } from './command-pipeline.js';

/** Where a command carries cache keys: its first argument (a key or pattern), a list, entries, or none. */
type KeyPosition = 'first' | 'list' | 'entries' | 'none';

/**
 * The cache keys of each command. Protection commands carry a lock, window or marker name, which the engine
 * stores under the reserved prefix itself: any name is fine there. Complete by construction (`satisfies`): a new
 * command must say where its keys are.
 */
const KEYS_AT = {
  get: 'first',
  getMany: 'list',
  set: 'first',
  setMany: 'entries',
  incr: 'first',
  delete: 'first',
  deleteMany: 'list',
  deleteMatch: 'first',
  deleteTags: 'none',
  scan: 'first',
  expire: 'first',
  getExpire: 'first',
  exists: 'first',
  ping: 'none',
  clear: 'none',
  setLock: 'none',
  unlock: 'none',
  isLocked: 'none',
  fixedWindow: 'none',
  slidingWindow: 'none',
  circuit: 'none',
  readState: 'none',
  writeState: 'none',
  resetProtection: 'none',
  getBits: 'first',
  incrBits: 'first',
  sliceIncr: 'first',
  setAdd: 'first',
  setRemove: 'first',
  setPop: 'first',
  getKeysCount: 'none',
  getSize: 'first',
  getRaw: 'first',
  setRaw: 'first',
} as const satisfies Record<CommandName, KeyPosition>;

/** The first cache key or pattern of `call` that names reserved storage, if any. */
function reservedKeyOf(call: CommandCall): string | undefined {
  switch (KEYS_AT[call.command]) {
    case 'first': {
      const key = call.args[0] as unknown;
      return typeof key === 'string' && isReservedKey(key) ? key : undefined;
    }
    case 'list':
      return (call.args[0] as readonly unknown[]).find(
        (key): key is string => typeof key === 'string' && isReservedKey(key),
      );
    case 'entries':
      for (const [key] of call.args[0] as ReadonlyArray<readonly [unknown, unknown]>) {
        if (typeof key === 'string' && isReservedKey(key)) return key;
      }
      return undefined;
    default:
      return undefined;
  }
}

/**
 * Checks the keys of every command again once the user's hooks have run, before the transaction takes its writes
 * and before the backend: the commands refuse reserved keys as the caller wrote them, but a hook that rewrites keys
 * (`lowerKeys()` turning `CASHEWS:PROTECT:JOB` into the state of the lock `job`, `addPrefix('cashews:')` turning
 * `protect:cashews:job` into it) could otherwise hand a cache command protection state or tag storage. Never wakes
 * the pipeline by itself: without hooks, the keys it would see are the ones already checked.
 */
export class ReservedKeysGate implements PipelineGate {
  readonly name = 'reservedKeys';

  active(): boolean {
    return false;
  }

  watch(): void {}

  handle(call: CommandCall, next: NextCommand): Promise<unknown> {
    const key = reservedKeyOf(call);
    if (key !== undefined) return Promise.reject(reservedKeyError(key, `${call.command}() after the command hooks`));
    return next(call);
  }
}
