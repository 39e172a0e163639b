/**
 * Every error the package throws derives from {@link CashewsError}, carries a stable `code`, and is exported,
 * so callers can branch on `instanceof` or on `code` without parsing messages.
 */
export class CashewsError extends Error {
  readonly code: string = 'CASHEWS_ERROR';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/** Bad configuration: thrown at bootstrap (module creation, decorator validation), never at the first call. */
export class CashewsConfigError extends CashewsError {
  override readonly code = 'CASHEWS_CONFIG';
}

/** The backend failed or timed out and the instance is not in safe mode (or the command has no safe answer). */
export class CacheBackendError extends CashewsError {
  override readonly code = 'CASHEWS_BACKEND';
}

/** A value cannot be stored (function, symbol, circular structure) or a stored value cannot be incremented. */
export class CacheValueError extends CashewsError {
  override readonly code = 'CASHEWS_VALUE';
}

/** A lock is held by someone else and the caller asked not to wait (or waited long enough). */
export class LockedError extends CashewsError {
  override readonly code = 'CASHEWS_LOCKED';

  constructor(
    readonly key: string,
    message = `Lock "${key}" is held by another caller.`,
  ) {
    super(message);
  }
}

/** True for any error thrown by this package. */
export function isCashewsError(error: unknown): error is CashewsError {
  return error instanceof CashewsError;
}

/** A call over a rate limit. `retryAfter` is in milliseconds; HTTP maps it to 429 with `Retry-After`. */
export class RateLimitError extends CashewsError {
  override readonly code = 'CASHEWS_RATE_LIMIT';

  constructor(
    readonly key: string,
    readonly limit: number,
    readonly retryAfter: number,
    message = `Rate limit of ${limit} exceeded for "${key}"; retry in ${Math.ceil(retryAfter / 1000)} s.`,
  ) {
    super(message);
  }
}

/** The circuit is open: the call failed fast without running. HTTP maps it to 503 with `Retry-After`. */
export class CircuitOpenError extends CashewsError {
  override readonly code = 'CASHEWS_CIRCUIT_OPEN';

  constructor(
    readonly key: string,
    readonly retryAfter: number,
    message = `Circuit "${key}" is open; retry in ${Math.ceil(retryAfter / 1000)} s.`,
  ) {
    super(message);
  }
}

/** The method became too slow and calls fail fast for a while. HTTP maps it to 503 with `Retry-After`. */
export class PerfDegradationError extends CashewsError {
  override readonly code = 'CASHEWS_PERF_DEGRADATION';

  constructor(
    readonly key: string,
    readonly retryAfter: number,
    message = `"${key}" is degraded (too slow); calls fail fast for ${Math.ceil(retryAfter / 1000)} s.`,
  ) {
    super(message);
  }
}
