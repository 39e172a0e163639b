/**
 * The test runner functions the conformance suite registers its tests with: Jest's, Vitest's and node:test's all
 * fit (`import { describe, it, beforeEach, afterEach } from 'node:test'`). The suite never imports a runner itself.
 * @example
 * ```ts
 * import { afterEach, beforeEach, describe, it } from 'node:test';
 * const test: TestFunctions = { describe, it, beforeEach, afterEach };
 * ```
 */
export interface TestFunctions {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>): unknown;
  beforeEach(body: () => Promise<void>): unknown;
  afterEach(body: () => Promise<void>): unknown;
}

/**
 * The runner's fake timers, for the tests whose subject is time on an in-process backend. They must fake `Date`,
 * `setTimeout`/`setInterval` and `performance.now()` (what lru-cache and the primitives measure time with): Jest's
 * and Vitest's (`vi.useFakeTimers()`, `vi.advanceTimersByTime`) do; node:test's mock timers leave `performance`
 * alone, so under node:test run without them (real time).
 * @example
 * ```ts
 * import { jest } from '@jest/globals';
 * const fakeTimers: FakeTimers = {
 *   install: () => void jest.useFakeTimers(),
 *   advance: (ms) => void jest.advanceTimersByTime(ms),
 *   uninstall: () => void jest.useRealTimers(),
 * };
 * ```
 */
export interface FakeTimers {
  /** Switches to fake time (called before the test's backend is created). */
  install(): void | Promise<void>;
  /** Moves fake time forward by `ms`, running the timers that fall due. */
  advance(ms: number): void | Promise<void>;
  /** Back to real time (after the backend is closed). */
  uninstall(): void | Promise<void>;
}
