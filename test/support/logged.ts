/**
 * What Nest's `Logger` said during a test, in two shapes over one spy: `logged(run)` for what one piece of work said,
 * `captureLogs()` for the rest of a test. Captured lines never reach the console.
 */
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';

type Level = 'log' | 'warn' | 'error';

/** Collects every line `Logger` prints at `levels` from now on, until `restore()` (or `jest.restoreAllMocks()`). */
function capture(levels: readonly Level[]): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const spies = levels.map((level) =>
    jest.spyOn(Logger.prototype, level).mockImplementation((message: unknown) => void lines.push(String(message))),
  );
  return { lines, restore: () => spies.forEach((spy) => spy.mockRestore()) };
}

/**
 * Every warning and error line Nest's `Logger` printed while `run` ran, for tests that assert what the library said,
 * or that it said nothing.
 */
export async function logged(run: () => Promise<unknown>): Promise<string[]> {
  const { lines, restore } = capture(['warn', 'error']);
  try {
    await run();
  } finally {
    restore();
  }
  return lines;
}

/**
 * Every line Nest's `Logger` prints from now on at log, warn or error level, until the test restores its spies
 * (`jest.restoreAllMocks()` in an `afterEach`, as `startedForEachTest()` of test/http/handler-calls.ts does).
 */
export function captureLogs(): string[] {
  return capture(['warn', 'error', 'log']).lines;
}
