import { parsePositiveDuration } from '../duration.js';
import type { ConditionOption, TtlOption } from './strategy.js';

/** When and for how long a strategy stores a result; normalized once at decoration time. */
export interface StorePolicy {
  ttl: number | ((result: unknown) => number);
  condition?: (result: unknown, args: readonly unknown[]) => boolean;
  /** Store only results whose computation took longer than this (ms). */
  timeCondition?: number;
}

/** Validates the user's store options; `where` names the decorator in error messages. */
export function storePolicy(
  where: string,
  options: { ttl: TtlOption; condition?: ConditionOption; timeCondition?: number | string },
): StorePolicy {
  const { ttl, condition, timeCondition } = options;
  return {
    ttl:
      typeof ttl === 'function'
        ? (result: unknown) => parsePositiveDuration(ttl(result), `${where} ttl (returned by the ttl function)`)
        : parsePositiveDuration(ttl, `${where} ttl`),
    condition: condition === 'notNullish' ? (result) => result !== null && result !== undefined : condition,
    timeCondition:
      timeCondition === undefined ? undefined : parsePositiveDuration(timeCondition, `${where} timeCondition`),
  };
}

/** Streams and file responses are consumed once; replaying a stored one would send nothing. */
function isStream(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { pipe?: unknown; getStream?: unknown };
  return typeof candidate.pipe === 'function' || typeof candidate.getStream === 'function';
}

export function shouldStore(
  policy: StorePolicy,
  result: unknown,
  args: readonly unknown[],
  elapsedMs: number,
): boolean {
  if (isStream(result)) return false;
  if (policy.timeCondition !== undefined && elapsedMs < policy.timeCondition) return false;
  return policy.condition ? policy.condition(result, args) : true;
}

export function ttlFor(policy: StorePolicy, result: unknown): number {
  return typeof policy.ttl === 'function' ? policy.ttl(result) : policy.ttl;
}

/** Runs the method and reports its result with the time it took. */
export async function timed(next: () => Promise<unknown>): Promise<{ result: unknown; elapsed: number }> {
  const started = performance.now();
  const result = await next();
  return { result, elapsed: performance.now() - started };
}
