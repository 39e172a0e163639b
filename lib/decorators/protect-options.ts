import { CashewsConfigError } from '../errors.js';
import type { ExceptionsOption } from '../strategies/strategy.js';

/** Validation shared by the protective decorators; every failure is a {@link CashewsConfigError} naming the option. */
export function positiveInteger(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new CashewsConfigError(`Invalid "${option}": expected an integer >= 1 (got ${JSON.stringify(value)}).`);
  }
  return value;
}

export function optionalFunction<F>(value: unknown, option: string): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') {
    throw new CashewsConfigError(`Invalid "${option}": expected a function (got ${typeof value}).`);
  }
  return value as F;
}

export function exceptionsOption(value: unknown, option: string): ExceptionsOption | undefined {
  if (value === undefined || typeof value === 'function') return value as ExceptionsOption | undefined;
  if (Array.isArray(value) && value.every((type) => typeof type === 'function')) return value as ExceptionsOption;
  throw new CashewsConfigError(`Invalid "${option}": expected an array of error classes or a predicate.`);
}
