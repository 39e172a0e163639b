import type { Clock } from '../clock.js';

/**
 * Epoch milliseconds through the clock port: windows of every process of a fleet then share indexes. Read at every
 * call, so fake timers (`jest.useFakeTimers()`) move it.
 */
export const wallClock: Clock = { now: () => Date.now() };

/**
 * The instance a strategy's cache stands for. Request directives wrap the engine in a proxy per call; the instance's
 * statistics collector, read through it, is the same object for every call.
 */
export function instanceOf(cache: object): object {
  const collector = (cache as { readonly collector?: unknown }).collector;
  return typeof collector === 'object' && collector !== null ? collector : cache;
}

/**
 * What one `@Adaptive` layer keeps per cache instance (its tuner): one table per layer, made with the layer's options
 * and held by them, so that a call finds its state with one lookup by instance (a table of instances, each with a table
 * of layers, took two; each WeakMap lookup cost about 2% of a hit). Held by the instance, weakly: an application's
 * state goes with its instances (two applications in one process never share observations), and nothing is kept
 * after they are gone.
 */
export class PerInstance<T extends object> {
  private readonly states = new WeakMap<object, T>();

  /** The state of `instance` if the layer has run there (statistics, invalidation). */
  find(instance: object): T | undefined {
    return this.states.get(instance);
  }

  /** The state of `instance`, created on first use with `create`. */
  ensure(instance: object, create: () => T): T {
    let state = this.states.get(instance);
    if (!state) this.states.set(instance, (state = create()));
    return state;
  }
}
