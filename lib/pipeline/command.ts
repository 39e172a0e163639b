import type { CircuitOp, CircuitSettings, CircuitState, WindowState } from '../backends/protect-types.js';
import type { Duration } from '../duration.js';

/** TTL of a stored value as commands take it: a duration, or `'never'` (see `StoreTtl`). */
type Ttl = Duration | 'never';

/**
 * The arguments of every command that passes through the command pipeline, as hooks see them: keys as the
 * caller wrote them, values before the codec (decoded JS values), TTLs as given. Protection commands
 * (`setLock` … `writeState`) carry the lock, window or marker name, not the stored key.
 */
export interface CommandArgs {
  get: [key: string];
  getMany: [keys: readonly string[]];
  set: [key: string, value: unknown, options: { ttl?: Ttl; exist?: boolean; tags?: readonly string[] }];
  setMany: [entries: ReadonlyArray<readonly [string, unknown]>, options: { ttl?: Ttl }];
  incr: [key: string, by: number, options: { ttl?: Duration }];
  delete: [key: string];
  deleteMany: [keys: readonly string[]];
  deleteMatch: [pattern: string];
  deleteTags: [tags: readonly string[]];
  scan: [pattern: string];
  expire: [key: string, ttl: Duration];
  getExpire: [key: string];
  exists: [key: string];
  ping: [message: string | undefined];
  clear: [];
  setLock: [name: string, token: string, ttl: number];
  unlock: [name: string, token: string];
  isLocked: [name: string];
  fixedWindow: [name: string, limit: number, period: number, banTtl: number];
  slidingWindow: [name: string, limit: number, period: number];
  circuit: [name: string, op: CircuitOp, settings: CircuitSettings];
  readState: [name: string];
  writeState: [name: string, value: unknown, ttl: number];
  resetProtection: [pattern: string];
  // Bitmaps, sliding counters, sets, key count and size, raw values (issue #13)
  /** `strict` (Bloom filters): a backend failure throws instead of answering zeros in safe mode. */
  getBits: [key: string, indexes: readonly number[], options: { size?: number; strict?: boolean }];
  incrBits: [key: string, indexes: readonly number[], options: { size?: number; by?: number; ttl?: Duration }];
  sliceIncr: [key: string, start: number, end: number, options: { max: number; ttl?: Duration }];
  setAdd: [key: string, members: readonly string[], options: { ttl?: Duration }];
  setRemove: [key: string, members: readonly string[]];
  setPop: [key: string, count: number];
  getKeysCount: [];
  getSize: [key: string];
  getRaw: [key: string];
  setRaw: [key: string, raw: string, options: { ttl?: Ttl }];
}

/**
 * What each command answers through the pipeline. A read answers `MISS` when nothing usable is
 * stored, so a hook can tell a miss from a stored `undefined`; `setLock` tells a lock held by someone else
 * (`'held'`) from a backend failure in safe mode (`'failed'`).
 */
export interface CommandResults {
  get: unknown;
  getMany: unknown[];
  set: boolean;
  setMany: void;
  incr: number;
  delete: boolean;
  deleteMany: number;
  deleteMatch: number;
  deleteTags: number;
  scan: AsyncIterable<string>;
  expire: boolean;
  getExpire: number;
  exists: boolean;
  ping: string;
  clear: void;
  setLock: 'acquired' | 'held' | 'failed';
  unlock: boolean;
  isLocked: boolean;
  fixedWindow: WindowState;
  slidingWindow: WindowState;
  circuit: CircuitState;
  readState: unknown;
  writeState: boolean;
  resetProtection: number;
  // Bitmaps, sliding counters, sets, key count and size, raw values (issue #13)
  getBits: number[];
  incrBits: number[];
  sliceIncr: number;
  setAdd: number;
  setRemove: number;
  setPop: string[];
  getKeysCount: number;
  getSize: number;
  getRaw: string | undefined;
  setRaw: boolean;
}

/** Name of a command of the pipeline. */
export type CommandName = keyof CommandArgs;

/** Every command name, checked complete against {@link CommandArgs} at compile time. */
export const COMMAND_NAMES: readonly CommandName[] = Object.keys({
  get: 1,
  getMany: 1,
  set: 1,
  setMany: 1,
  incr: 1,
  delete: 1,
  deleteMany: 1,
  deleteMatch: 1,
  deleteTags: 1,
  scan: 1,
  expire: 1,
  getExpire: 1,
  exists: 1,
  ping: 1,
  clear: 1,
  setLock: 1,
  unlock: 1,
  isLocked: 1,
  fixedWindow: 1,
  slidingWindow: 1,
  circuit: 1,
  readState: 1,
  writeState: 1,
  resetProtection: 1,
  getBits: 1,
  incrBits: 1,
  sliceIncr: 1,
  setAdd: 1,
  setRemove: 1,
  setPop: 1,
  getKeysCount: 1,
  getSize: 1,
  getRaw: 1,
  setRaw: 1,
} satisfies Record<CommandName, 1>) as CommandName[];

/**
 * One command on its way to the backend. A union over every command, so `if (call.command === 'set')` narrows
 * `call.args` to `set`'s arguments.
 */
export type CommandCall = { [C in CommandName]: { readonly command: C; readonly args: CommandArgs[C] } }[CommandName];

/** A command of one kind; `CommandCall` is the union of all of them. */
export type CommandCallOf<C extends CommandName> = Extract<CommandCall, { readonly command: C }>;

/** Sends a call on to the rest of the pipeline (the next hook, or the backend) and answers its result. */
export type NextCommand = (call: CommandCall) => Promise<unknown>;
