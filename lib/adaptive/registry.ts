import type { Clock } from '../clock.js';
import { AdaptiveTuner, type TunerOptions } from './tuner.js';

/**
 * Epoch milliseconds through the clock port: windows of every process of a fleet then share indexes. Read at every
 * call, so fake timers (`jest.useFakeTimers()`) move it.
 */
export const wallClock: Clock = { now: () => Date.now() };

/**
 * Tuners per cache instance and `@Adaptive` layer. Held by the instance, weakly: an application's state goes with its
 * instances (two applications in one process never share observations), and nothing is kept after they are gone.
 */
const tuners = new WeakMap<object, WeakMap<object, AdaptiveTuner>>();

/**
 * The instance a strategy's cache stands for. Request directives wrap the engine in a proxy per call; the instance's
 * statistics collector, read through it, is the same object for every call.
 */
export function instanceOf(cache: object): object {
  const collector = (cache as { readonly collector?: unknown }).collector;
  return typeof collector === 'object' && collector !== null ? collector : cache;
}

/** The tuner of `layerOptions` on `instance`, created on first use with `create`. */
export function tunerFor(instance: object, layerOptions: object, create: () => TunerOptions): AdaptiveTuner {
  let perInstance = tuners.get(instance);
  if (!perInstance) tuners.set(instance, (perInstance = new WeakMap()));
  let tuner = perInstance.get(layerOptions);
  if (!tuner) perInstance.set(layerOptions, (tuner = new AdaptiveTuner(create())));
  return tuner;
}

/** The tuner of `layerOptions` on `instance` if it has run there (statistics). */
export function existingTuner(instance: object, layerOptions: object): AdaptiveTuner | undefined {
  return tuners.get(instance)?.get(layerOptions);
}
