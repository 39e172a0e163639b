import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';

/**
 * Every warning and error line Nest's `Logger` printed while `run` ran (nothing reaches the console meanwhile), for
 * tests that assert what the library said, or that it said nothing.
 */
export async function logged(run: () => Promise<unknown>): Promise<string[]> {
  const lines: string[] = [];
  const capture = (message: unknown) => void lines.push(String(message));
  const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(capture);
  const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(capture);
  try {
    await run();
  } finally {
    warn.mockRestore();
    error.mockRestore();
  }
  return lines;
}
