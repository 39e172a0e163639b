import { Logger } from '@nestjs/common';
import { CashewsConfigError } from '../../errors.js';
import { COMMAND_NAMES, type CommandCallOf, type CommandName, type CommandResults } from '../command.js';
import type { CommandHook } from '../command-hook.js';
import { SAME_KEY, withKeyRewrite } from './key-rewrite.js';

/** What {@link onCommand} calls after a command of its kind succeeded. */
export type CommandCallback<C extends CommandName> = (
  /** The command's key (pattern, or protection name) when it has one; `undefined` for `getMany`, `clear`, … */
  key: string | undefined,
  result: CommandResults[C],
  call: CommandCallOf<C>,
) => void;

const COMMANDS: ReadonlySet<string> = new Set(COMMAND_NAMES);

/**
 * A command hook that calls `callback` after each successful command of the kinds named, with the key and the
 * answer (a read's miss is `MISS`): audit logs, metrics, invalidation fan-out. The callback runs after the
 * command and cannot change its answer; an error it throws is logged, never thrown to the caller.
 * @throws CashewsConfigError for a command name the pipeline does not have.
 * @example
 * ```ts
 * const cache = await createCache('mem://', {
 *   hooks: [onCommand('set', (key, stored) => console.log(`set ${key}: ${stored}`))],
 * });
 * ```
 */
export function onCommand<C extends CommandName>(
  commands: C | readonly C[],
  callback: CommandCallback<C>,
): CommandHook {
  const names: readonly string[] = Array.isArray(commands) ? commands : [commands as C];
  const unknown = names.filter((name) => !COMMANDS.has(name));
  if (names.length === 0 || unknown.length || typeof callback !== 'function') {
    throw new CashewsConfigError(
      `onCommand(${JSON.stringify(commands)}, …): ` +
        (typeof callback !== 'function'
          ? 'the second argument must be a function (key, result, call) => void.'
          : `unknown command ${unknown.map((name) => `"${name}"`).join(', ') || '(none given)'}; accepted: ` +
            `${[...COMMANDS].join(', ')}.`),
    );
  }
  const wanted = new Set(names);
  const logger = new Logger('Cashews');
  // Keeps keys as they are: prefix routing need not probe it (see key-rewrite.ts).
  return withKeyRewrite(
    {
      name: `onCommand(${names.join(',')})`,
      async handle(call, next) {
        const result = await next(call);
        if (wanted.has(call.command)) {
          try {
            const first: unknown = call.args[0];
            (callback as unknown as CommandCallback<CommandName>)(
              typeof first === 'string' ? first : undefined,
              result as CommandResults[CommandName],
              call as CommandCallOf<CommandName>,
            );
          } catch (error) {
            const reason = error instanceof Error ? error.message : String(error);
            logger.warn(`onCommand(${call.command}) callback failed: ${reason} (the command's answer stands).`);
          }
        }
        return result;
      },
    },
    SAME_KEY,
  );
}
