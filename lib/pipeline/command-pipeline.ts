import { CashewsConfigError } from '../errors.js';
import type { CommandCall, NextCommand } from './command.js';
import type { CommandHook } from './command-hook.js';

/**
 * A built-in step in front of the user's hooks: the run-time switch (answers switched-off commands) and
 * `invalidateFurther` (turns reads into deletes inside its scope).
 */
export interface PipelineGate extends CommandHook {
  /** `false` while the gate has nothing to do (nothing switched off, no scope): the pipeline may be bypassed. */
  active(): boolean;
  /**
   * Called once by the pipeline: the gate calls `wake` whenever it may have become active (a scope entered, a
   * command switched off). Until a gate woke or a hook was added, the pipeline asks no gate: an idle instance pays
   * one field read per command.
   */
  watch(wake: () => void): void;
}

/**
 * The ordered chain every command of a cache instance passes through: the built-in gates (the run-time switch,
 * then `invalidateFurther`), then the user's hooks in order, then the built-in tail gates (the running
 * transaction), then the engine's own step that reaches the backend (codec, safe mode). When every gate is idle and there are no hooks, the engine calls its own step
 * directly ({@link engaged}): a pipeline that would change nothing costs a branch per command, not a chain of
 * promises.
 */
export class CommandPipeline {
  private hooks: readonly CommandHook[];
  /** The gates then the hooks: the whole chain, rebuilt when a hook is added rather than on every command. */
  private chain: readonly CommandHook[];
  /** No hook was added and no gate woke yet: nothing can engage the pipeline. */
  private asleep: boolean;

  constructor(
    private readonly gates: readonly PipelineGate[],
    hooks: readonly CommandHook[] = [],
    private readonly tail: readonly PipelineGate[] = [],
  ) {
    this.hooks = hooks.map(checkHook);
    this.chain = [...gates, ...this.hooks, ...tail];
    this.asleep = this.hooks.length === 0;
    const wake = (): void => {
      this.asleep = false;
    };
    for (const gate of [...gates, ...tail]) gate.watch(wake);
  }

  /** Appends a hook after the existing ones (and before the tail gates). */
  use(hook: CommandHook): void {
    this.hooks = [...this.hooks, checkHook(hook)];
    this.chain = [...this.gates, ...this.hooks, ...this.tail];
    this.asleep = false;
  }

  /** The user's hooks, in order. */
  list(): readonly CommandHook[] {
    return this.hooks;
  }

  /** Whether a command must go through the chain (a hook is installed, or something is switched off). */
  engaged(): boolean {
    if (this.asleep) return false;
    if (this.hooks.length !== 0) return true;
    for (const gate of this.gates) if (gate.active()) return true;
    for (const gate of this.tail) if (gate.active()) return true;
    return false;
  }

  /** Runs `call` through the gates and every hook, ending in `terminal`. */
  dispatch(call: CommandCall, terminal: NextCommand): Promise<unknown> {
    const hooks = this.chain;
    const step =
      (index: number): NextCommand =>
      (current) => {
        try {
          return index === hooks.length ? terminal(current) : hooks[index].handle(current, step(index + 1));
        } catch (error) {
          // A hook that throws synchronously fails its call like one that rejects.
          return Promise.reject(error);
        }
      };
    return step(0)(call);
  }
}

/** @throws CashewsConfigError unless `hook` is a `{ name, handle(call, next) }` object. */
export function checkHook(hook: CommandHook): CommandHook {
  if (!hook || typeof hook !== 'object' || typeof hook.handle !== 'function' || typeof hook.name !== 'string') {
    throw new CashewsConfigError(
      `Invalid command hook ${describe(hook)}: a hook is an object { name: string, handle(call, next) } ` +
        `(see CommandHook in the README, "Command hooks").`,
    );
  }
  return hook;
}

function describe(value: unknown): string {
  if (value && typeof value === 'object' && 'name' in value) return `"${String(value.name)}"`;
  return typeof value === 'function' ? 'given as a function' : `(${typeof value})`;
}
