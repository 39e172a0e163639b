import { showValue } from './config/describe-argument.js';
import { CashewsConfigError } from './errors.js';

/**
 * A duration: milliseconds as a number, or a string of one or more `<n><unit>` parts with units
 * `ms`, `s`, `m`, `h`, `d` (`'500ms'`, `'10s'`, `'1h30m'`). A string without a unit (`'80'`) is refused.
 */
export type Duration = number | string;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/**
 * Converts a {@link Duration} to whole milliseconds.
 * @param option names the option in the error message, so users see which setting is wrong.
 * @throws CashewsConfigError for anything that is not a non-negative finite duration, and for a string without a
 * unit (`'80'`: milliseconds here, seconds in cashews; write `'80ms'`, `'80s'` or the number `80`).
 * @example
 * ```ts
 * const ms = parseDuration('1h30m', 'ttl'); // 5_400_000
 * ```
 */
export function parseDuration(value: unknown, option: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (/^\d+(?:\.\d+)?$/.test(text)) {
      if (Number(text) === 0) return 0; // zero in any unit
      // cashews reads a bare '80' as seconds, JavaScript habits as milliseconds: refuse to guess.
      throw new CashewsConfigError(
        `Invalid duration for "${option}": ${JSON.stringify(value)} has no unit. ` +
          `Write '${text}ms' or '${text}s' (units: ms, s, m, h, d, combined as in '1h30m' or '1s500ms'), ` +
          `or pass the number ${text} for milliseconds.`,
      );
    }
    if (WHOLE.test(text)) {
      let total = 0;
      for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * UNIT_MS[unit];
      return Math.round(total);
    }
  }
  throw new CashewsConfigError(
    `Invalid duration for "${option}": ${showValue(value)}. Accepted: a number of milliseconds, finite and not ` +
      `negative (e.g. 1500), or a string such as '500ms', '10s', '5m', '3h', '1d', '1h30m'.`,
  );
}

/** Like {@link parseDuration} but also rejects zero, for options where zero would mean "never store". */
export function parsePositiveDuration(value: unknown, option: string): number {
  const ms = parseDuration(value, option);
  if (ms <= 0) {
    throw new CashewsConfigError(
      `Invalid duration for "${option}": it must be greater than zero (got ${showValue(value)}).`,
    );
  }
  return ms;
}
