import type { CommandCall, NextCommand } from './command.js';

/**
 * A step of the command pipeline. Every command of a cache instance (`get`, `set`, `incr`, `delete`, locks, rate
 * limits…, see {@link CommandArgs}) passes through the instance's hooks, in the order they were given, before it
 * reaches the backend; decorated methods use the same commands, so a hook sees their reads and writes too.
 *
 * A hook may look at a call (callbacks, metrics), change it (rewrite keys), answer it without going further
 * (a switched-off command, a value over a size limit), or change the answer. It must call `next` at most once
 * per call unless it means to repeat the command, and answer what the command answers (see
 * {@link CommandResults}: a read answers `MISS` for a miss). Hooks run on the caller's async context, so
 * AsyncLocalStorage scopes are visible in them.
 *
 * The first step of every pipeline is built in: the run-time switch (`cache.disable`, `cache.disabling`,
 * `enable=0`), which answers switched-off commands before any hook runs.
 *
 * @example
 * ```ts
 * // Keys are case-insensitive: lower-case them on every keyed read and write.
 * const lowerKeys: CommandHook = {
 *   name: 'lowerKeys',
 *   handle(call, next) {
 *     if (call.command === 'get') return next({ command: 'get', args: [call.args[0].toLowerCase()] });
 *     if (call.command === 'set') {
 *       const [key, value, options] = call.args;
 *       return next({ command: 'set', args: [key.toLowerCase(), value, options] });
 *     }
 *     return next(call);
 *   },
 * };
 * const cache = await createCache('mem://', { hooks: [lowerKeys] });
 * await cache.set('User:1', 'Ada');
 * console.log(await cache.get('user:1')); // 'Ada'
 * ```
 */
export interface CommandHook {
  /** Names the hook in error messages and logs. */
  readonly name: string;
  /** Handles one call: answer it, or pass it (possibly changed) to `next` and answer what that answers. */
  handle(call: CommandCall, next: NextCommand): Promise<unknown>;
  /** Counters the hook keeps (e.g. writes it skipped), shown in `cache.stats().hooks`. */
  stats?(): Readonly<Record<string, number>>;
}
