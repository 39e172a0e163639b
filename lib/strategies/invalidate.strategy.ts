import { instanceOf } from '../adaptive/registry.js';
import type { KeyFunction, KeySource } from '../keys/key-template.js';
import type { Strategy } from './strategy.js';
import { defineStrategy, type StrategyDefinition } from './layer.js';

/** What one `@Invalidate` removes, compiled at decoration time. */
export interface InvalidateStrategyOptions {
  /** Key patterns (`*` is the wildcard); a pattern without `*` is deleted as one key. */
  readonly patterns: readonly KeyFunction[];
  /** Exact keys of a decorated target method for this call's (mapped) arguments. */
  readonly keys: readonly KeyFunction[];
  /** Tags whose keys are removed (through the tag index, no scan). */
  readonly tags: readonly KeyFunction[];
  /**
   * What a decorated target method keeps in process for this call's (mapped) arguments, dropped on the cache instance
   * given (see `StrategyDefinition.forget`).
   */
  readonly forget?: ReadonlyArray<(instance: object, source: KeySource) => void>;
  /**
   * A target given as a method reference (`BaseRepo.prototype.findOne`): its keys name the class declaring it, which a
   * subclass inheriting the method does not write (default keys name the instance's class). The explorer says so at
   * bootstrap when such a subclass is a provider.
   */
  readonly reference?: { readonly method: unknown; readonly name: string; readonly base: string };
}

/**
 * Runs the method and, once it has succeeded, deletes what the options name; a failure deletes nothing.
 * The deletion is awaited, so a read after the call returns sees fresh data.
 */
export const invalidateStrategy: Strategy<InvalidateStrategyOptions> = async (call, options, cache, next) => {
  const result = await next();
  const source: KeySource = call.source ?? { args: call.args };
  const work: Array<Promise<unknown>> = [];
  for (const pattern of options.patterns) {
    const text = pattern(source);
    work.push(text.includes('*') ? cache.deleteMatch(text) : cache.delete(text));
  }
  for (const key of options.keys) work.push(cache.delete(key(source)));
  if (options.tags.length) work.push(cache.deleteTags(...options.tags.map((tag) => tag(source))));
  for (const forget of options.forget ?? []) forget(instanceOf(cache), source);
  await Promise.all(work);
  return result;
};

/** `invalidate` layers: stores nothing. */
export const invalidateDefinition: StrategyDefinition<InvalidateStrategyOptions> =
  defineStrategy<InvalidateStrategyOptions>({
    name: 'invalidate',
    run: invalidateStrategy,
    storesResult: false,
  });
