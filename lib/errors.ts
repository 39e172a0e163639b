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
