/**
 * Source of monotonic time in milliseconds. Code that measures time reads it through this port, so a test
 * can drive a fake clock instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since an arbitrary origin; never goes backwards. */
  now(): number;
}

/**
 * `performance.now()`: monotonic and sub-millisecond, unaffected by changes of the wall clock. Looked up on the
 * global at every reading, so fake timers that replace `performance` (Jest's `jest.useFakeTimers()`, sinon) move
 * mem:// TTLs with `jest.advanceTimersByTime()`. Offset by 1 ms because a fake `performance.now()` starts at 0,
 * which lru-cache reads as "no start time" (the entry would never expire).
 */
export const systemClock: Clock = { now: () => performance.now() + 1 };
