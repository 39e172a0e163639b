import { AsyncLocalStorage } from 'node:async_hooks';
import { MISS } from '../miss.js';
import type { CommandCall, NextCommand } from './command.js';
import type { PipelineGate } from './command-pipeline.js';

/**
 * `cache.invalidateFurther(fn)`: inside `fn`, the first read of each key deletes it and answers a miss, so every
 * cached value the call tree depends on is recomputed and stored again (what `Clear-Site-Data: "cache"` does for
 * one HTTP request, for providers, CLI commands and queue consumers). A key read again in the same scope answers
 * what was stored meanwhile: one recompute per key, not one per read. Task-local (AsyncLocalStorage): a
 * concurrent call outside `fn` reads the cache as usual. A built-in step of the pipeline, right after the
 * run-time switch; its deletes go through the user's hooks like any delete (an `addPrefix` applies).
 */
export class InvalidateFurther implements PipelineGate {
  readonly name = 'invalidateFurther';
  /** Keys already invalidated in the current scope. */
  private readonly scope = new AsyncLocalStorage<Set<string>>();
  /** Set once a scope was entered: until then nobody pays for an AsyncLocalStorage read. */
  private used = false;
  /** Tells the pipeline this gate may be active (see {@link PipelineGate.watch}). */
  private wake: () => void = () => undefined;

  watch(wake: () => void): void {
    this.wake = wake;
  }

  active(): boolean {
    return this.used && this.scope.getStore() !== undefined;
  }

  run<T>(fn: () => T | Promise<T>): Promise<T> {
    this.used = true;
    this.wake();
    // A nested scope shares the outer one's keys: what was recomputed once is not recomputed again.
    return this.scope.run(this.scope.getStore() ?? new Set(), async () => fn());
  }

  handle(call: CommandCall, next: NextCommand): Promise<unknown> {
    const done = this.used ? this.scope.getStore() : undefined;
    if (!done) return next(call);
    if (call.command === 'get') {
      const [key] = call.args;
      if (done.has(key)) return next(call);
      done.add(key);
      return next({ command: 'delete', args: [key] }).then(() => MISS);
    }
    if (call.command === 'getMany') {
      const fresh = call.args[0].filter((key) => !done.has(key));
      if (fresh.length === 0) return next(call);
      for (const key of fresh) done.add(key);
      // Read the others after the delete, so the answer keeps the order of the keys asked for.
      return next({ command: 'deleteMany', args: [fresh] }).then(() => next(call));
    }
    return next(call);
  }
}
