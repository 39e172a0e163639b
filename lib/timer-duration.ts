import { parsePositiveDuration } from './duration.js';
import { CashewsConfigError } from './errors.js';

/**
 * The longest delay a Node.js timer waits: 2^31 - 1 ms (about 24.8 days). A longer `setTimeout`/`setInterval` is
 * not refused by Node: it fires after 1 ms (with a TimeoutOverflowWarning), so a 30-day timeout would fail every
 * call at once and an interval would spin. Durations that end up in a timer are checked against it.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** How the limit is told in error messages. */
export const MAX_TIMER_TEXT = `${MAX_TIMER_MS} ms (about 24.8 days, the longest a Node.js timer can wait)`;

/**
 * `ms` when a timer can wait that long.
 * @throws CashewsConfigError naming `option` and the maximum.
 */
export function checkTimerMs(ms: number, option: string): number {
  if (ms > MAX_TIMER_MS) {
    throw new CashewsConfigError(
      `Invalid duration for "${option}": ${ms} ms is longer than a timer can wait. Accepted: at most ${MAX_TIMER_TEXT}.`,
    );
  }
  return ms;
}

/**
 * A duration greater than zero that a timer waits for.
 * @throws CashewsConfigError for anything else, naming `option` (and the maximum when it is exceeded).
 */
export function parseTimerDuration(value: unknown, option: string): number {
  return checkTimerMs(parsePositiveDuration(value, option), option);
}
