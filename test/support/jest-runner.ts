/**
 * Jest's functions in the shape the framework-neutral suites of nestjs-cashews/testing take (lib/testing/): what a
 * third party passes under Jest, and what this repository's own runs of the conformance suite pass.
 */
import { afterEach, beforeEach, describe, it, jest } from '@jest/globals';
import type { FakeTimers, TestFunctions } from '../../lib/testing/index.js';

export const jestTest: TestFunctions = { describe, it, beforeEach, afterEach };

export const jestFakeTimers: FakeTimers = {
  install: () => void jest.useFakeTimers(),
  advance: (ms) => void jest.advanceTimersByTime(ms),
  uninstall: () => void jest.useRealTimers(),
};
