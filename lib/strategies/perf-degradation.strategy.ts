import { PerfDegradationError } from '../errors.js';
import { MISS } from '../miss.js';
import type { Strategy } from './strategy.js';
import { defineStrategy, type StrategyDefinition } from './layer.js';

/** Decides whether a call was too slow, given the previous durations (ms, oldest first). */
export type PerfCondition = (elapsed: number, previous: readonly number[]) => boolean;

export interface PerfDegradationStrategyOptions {
  /** How long calls fail fast once the method is degraded (ms). */
  ttl: number;
  /** Durations kept; the condition is only checked once this many are known. */
  traceSize: number;
  condition: PerfCondition;
}

/** Default condition: slower than twice the mean of the previous durations. */
export const slowerThanTwiceTheMean: PerfCondition = (elapsed, previous) =>
  elapsed > (2 * previous.reduce((sum, ms) => sum + ms, 0)) / previous.length;

/** Keys with a trace kept per layer; beyond this the oldest trace is forgotten. */
const MAX_TRACED_KEYS = 10_000;
const traces = new WeakMap<object, Map<string, number[]>>();

function traceOf(options: PerfDegradationStrategyOptions, key: string): number[] {
  let byKey = traces.get(options);
  if (!byKey) traces.set(options, (byKey = new Map()));
  let trace = byKey.get(key);
  if (!trace) {
    if (byKey.size >= MAX_TRACED_KEYS) byKey.delete(byKey.keys().next().value as string);
    byKey.set(key, (trace = []));
  }
  return trace;
}

/**
 * Keeps the last `traceSize` durations of successful calls (in this process). When a call is slower than
 * `condition` allows, a marker is stored in the backend for `ttl`, and until it expires every call, in every
 * process sharing the backend, fails fast with {@link PerfDegradationError}.
 */
export const perfDegradationStrategy: Strategy<PerfDegradationStrategyOptions> = async (call, options, cache, next) => {
  const marker = `${call.key}:perf`;
  const until = await cache.readState(marker);
  if (until !== MISS) {
    const left = typeof until === 'number' ? until - Date.now() : options.ttl;
    call.reportRejection?.();
    throw new PerfDegradationError(call.key, Math.max(1, Math.min(options.ttl, left)));
  }
  const started = performance.now();
  const result = await next();
  const elapsed = performance.now() - started;
  const trace = traceOf(options, call.key);
  if (trace.length >= options.traceSize && options.condition(elapsed, trace)) {
    trace.length = 0;
    await cache.writeState(marker, Date.now() + options.ttl, options.ttl);
    return result;
  }
  trace.push(elapsed);
  if (trace.length > options.traceSize) trace.shift();
  return result;
};

/** `perf-degradation` layers: stores nothing. */
export const perfDegradationDefinition: StrategyDefinition<PerfDegradationStrategyOptions> =
  defineStrategy<PerfDegradationStrategyOptions>({
    name: 'perf-degradation',
    run: perfDegradationStrategy,
    storesResult: false,
  });
