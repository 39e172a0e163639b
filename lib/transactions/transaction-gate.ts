import { AsyncLocalStorage } from 'node:async_hooks';
import type { CommandCall, NextCommand } from '../pipeline/command.js';
import type { PipelineGate } from '../pipeline/command-pipeline.js';
import type { TransactionState } from './transaction.js';

/**
 * The transaction step of the command pipeline: inside `cache.transaction(fn)` (task-local, AsyncLocalStorage),
 * commands go to the running transaction, which keeps writes until the commit and answers reads from them first.
 * It is the last step before the engine, after the user's hooks: a transaction holds keys as they are stored
 * (an `addPrefix` applied), and hooks see a transaction's commands when they are made.
 *
 * A command from work that outlives `fn` (a background refresh it started) finds the transaction ended and goes
 * straight to the backend.
 */
export class TransactionGate implements PipelineGate {
  readonly name = 'transaction';
  private readonly scope = new AsyncLocalStorage<TransactionState>();
  /** Set once a transaction ran: until then nobody pays for an AsyncLocalStorage read. */
  private used = false;
  /** Tells the pipeline this gate may be active (see {@link PipelineGate.watch}). */
  private wake: () => void = () => undefined;

  watch(wake: () => void): void {
    this.wake = wake;
  }

  active(): boolean {
    return this.used && this.scope.getStore()?.open === true;
  }

  /** The transaction of the current async context, if one is open. */
  current(): TransactionState | undefined {
    if (!this.used) return undefined;
    const state = this.scope.getStore();
    return state?.open ? state : undefined;
  }

  /**
   * Runs `fn`, and everything it starts, outside any transaction of the current async context: its commands go
   * straight to the backend (bookkeeping that a caller's rollback must not undo, such as `@Adaptive`'s fleet exchange).
   */
  outside<T>(fn: () => Promise<T>): Promise<T> {
    return this.used ? this.scope.exit(fn) : fn();
  }

  run<T>(state: TransactionState, fn: () => Promise<T>): Promise<T> {
    this.used = true;
    this.wake();
    return this.scope.run(state, fn);
  }

  handle(call: CommandCall, next: NextCommand): Promise<unknown> {
    const state = this.current();
    return state ? state.handle(call, next) : next(call);
  }
}
