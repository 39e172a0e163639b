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

/**
 * A command was given a key or pattern it refuses: one in the reserved namespace of protection state
 * (`cashews:protect:`), which only `resetProtection` may touch.
 */
export class CacheKeyError extends CashewsError {
  override readonly code = 'CASHEWS_KEY';
}

/**
 * A key template placeholder rendered `undefined` (`'export:{req.user.id}'` without a user), so the call's key
 * could not tell it apart from every other such call. Decorators never let those calls share an entry or a
 * bucket silently: see the README ("A placeholder that renders undefined"). A placeholder marked optional
 * (`{req.user.id?}`) renders `undefined` as a value instead.
 */
export class KeyPlaceholderError extends CashewsError {
  override readonly code = 'CASHEWS_KEY_PLACEHOLDER';

  constructor(
    /** `ClassName:method` of the decorated method. */
    readonly base: string,
    readonly template: string,
    /** The placeholder's text between the braces, e.g. `req.user.id`. */
    readonly placeholder: string,
    message = `Key template "${template}" of ${base}: placeholder {${placeholder}} rendered undefined, so the key cannot tell this call apart from other such calls. Pass a value, or mark the placeholder optional ({${placeholder.replace(/^([^:]*)/, '$1?')}}) if such calls may share one key.`,
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
