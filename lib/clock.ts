/**
 * Source of monotonic time in milliseconds. Code that measures time reads it through this port, so a test
 * can drive a fake clock instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since an arbitrary origin; never goes backwards. */
  now(): number;
}

/** `performance.now()`: monotonic and sub-millisecond, unaffected by changes of the wall clock. */
export const systemClock: Clock = performance;
