/**
 * Every error the package throws derives from {@link CashewsError}, carries a stable `code`, and is exported,
 * so callers can branch on `instanceof` or on `code` without parsing messages.
 * @example
 * ```ts
 * function describe(error: unknown): string {
 *   return error instanceof CashewsError ? `${error.code}: ${error.message}` : String(error);
 * }
 * ```
 */
export class CashewsError extends Error {
  readonly code: string = 'CASHEWS_ERROR';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/**
 * Bad configuration: thrown at bootstrap (module creation, decorator validation), never at the first call.
 * @example
 * ```ts
 * try {
 *   await createCache('memcached://localhost:11211');
 * } catch (error) {
 *   if (error instanceof CashewsConfigError) console.error(error.message); // lists the accepted schemes
 * }
 * ```
 */
export class CashewsConfigError extends CashewsError {
  override readonly code = 'CASHEWS_CONFIG';
}

/**
 * The backend failed or timed out and the instance is not in safe mode (or the command has no safe answer).
 * @example
 * ```ts
 * const strict = await createCache('redis://127.0.0.1:6379/0', { safe: false });
 * try {
 *   await strict.get('product:42');
 * } catch (error) {
 *   if (error instanceof CacheBackendError) console.error('Redis is down', error.cause);
 * }
 * ```
 */
export class CacheBackendError extends CashewsError {
  override readonly code = 'CASHEWS_BACKEND';
}

/**
 * A value cannot be stored (function, symbol, circular structure), a stored value cannot be incremented, or an
 * increment is not an integer (`incr(key, 1.5)`).
 * @example
 * ```ts
 * try {
 *   await cache.set('callback', () => 'a function is not a value');
 * } catch (error) {
 *   if (error instanceof CacheValueError) console.error(error.message);
 * }
 * ```
 */
export class CacheValueError extends CashewsError {
  override readonly code = 'CASHEWS_VALUE';
}

/**
 * A lock is held by someone else and the caller asked not to wait (or waited long enough).
 * @example
 * ```ts
 * try {
 *   await cache.lock('reindex', '30s', async () => 'done', { wait: false });
 * } catch (error) {
 *   if (error instanceof LockedError) console.log(`${error.key} is being reindexed elsewhere`);
 * }
 * ```
 */
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
 * @example
 * ```ts
 * try {
 *   await cache.deleteMatch('cashews:protect:*');
 * } catch (error) {
 *   if (error instanceof CacheKeyError) await cache.resetProtection('*'); // the command that may clear it
 * }
 * ```
 */
export class CacheKeyError extends CashewsError {
  override readonly code = 'CASHEWS_KEY';
}

/**
 * A key template placeholder rendered `undefined` (`'export:{req.user.id}'` without a user), so the call's key
 * could not tell it apart from every other such call. Decorators never let those calls share an entry or a
 * bucket silently: see the README ("A placeholder that renders undefined"). A placeholder marked optional
 * (`{req.user.id?}`) renders `undefined` as a value instead.
 * @example
 * ```ts
 * function explain(error: unknown): string | undefined {
 *   if (error instanceof KeyPlaceholderError) return `${error.base}: pass {${error.placeholder}} (${error.template})`;
 *   return undefined;
 * }
 * ```
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

/**
 * True for any error thrown by this package.
 * @example
 * ```ts
 * function codeOf(error: unknown): string {
 *   return isCashewsError(error) ? error.code : 'UNEXPECTED';
 * }
 * ```
 */
export function isCashewsError(error: unknown): error is CashewsError {
  return error instanceof CashewsError;
}

/**
 * A call over a rate limit. `retryAfter` is in milliseconds; HTTP maps it to 429 with `Retry-After`.
 * @example
 * ```ts
 * // a service method decorated with RateLimit, called outside HTTP
 * async function searchOrWait(products: ProductsService, q: string): Promise<Product[]> {
 *   try {
 *     return await products.search(q);
 *   } catch (error) {
 *     if (!(error instanceof RateLimitError)) throw error;
 *     await new Promise((resolve) => setTimeout(resolve, error.retryAfter));
 *     return products.search(q);
 *   }
 * }
 * ```
 */
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

/**
 * The circuit is open: the call failed fast without running. HTTP maps it to 503 with `Retry-After`.
 * @example
 * ```ts
 * // a service method decorated with CircuitBreaker
 * async function listOrNothing(products: ProductsService): Promise<Product[]> {
 *   try {
 *     return await products.list();
 *   } catch (error) {
 *     if (error instanceof CircuitOpenError) return []; // upstream is failing: retry in error.retryAfter ms
 *     throw error;
 *   }
 * }
 * ```
 */
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

/**
 * The method became too slow and calls fail fast for a while. HTTP maps it to 503 with `Retry-After`.
 * @example
 * ```ts
 * // a service method decorated with PerfDegradation
 * async function searchOrNothing(products: ProductsService, q: string): Promise<Product[]> {
 *   try {
 *     return await products.search(q);
 *   } catch (error) {
 *     if (error instanceof PerfDegradationError) return []; // too slow lately: calls fail fast for a while
 *     throw error;
 *   }
 * }
 * ```
 */
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

/**
 * A `@Cache` call with `hardTimeout` ran longer than that: the caller gets this error, the run goes on in the
 * background and stores its result when it finishes. HTTP maps it to 504.
 * @example
 * ```ts
 * // a service method decorated with Cache({ ttl: '1m', hardTimeout: '2s' })
 * async function quoteOrNothing(quotes: { quote(id: string): Promise<number> }, id: string): Promise<number | null> {
 *   try {
 *     return await quotes.quote(id);
 *   } catch (error) {
 *     if (error instanceof CacheTimeoutError) return null; // slower than 2 s: answer without a quote
 *     throw error;
 *   }
 * }
 * ```
 */
export class CacheTimeoutError extends CashewsError {
  override readonly code = 'CASHEWS_TIMEOUT';

  constructor(
    readonly target: string,
    readonly timeout: number,
    message = `${target} did not answer within its hardTimeout of ${timeout} ms (it goes on in the background).`,
  ) {
    super(message);
  }
}

/**
 * A transaction was used in a way it cannot honour: a write after `rollback()`, or `clear()` inside it.
 * @example
 * ```ts
 * const cache = await createCache('mem://');
 * try {
 *   await cache.transaction(async () => cache.clear());
 * } catch (error) {
 *   if (error instanceof TransactionError) console.log(error.code); // 'CASHEWS_TRANSACTION'
 * }
 * ```
 */
export class TransactionError extends CashewsError {
  override readonly code = 'CASHEWS_TRANSACTION';
}

/**
 * A backend of your own (see `registerBackend`) cannot run an atomic primitive (a counter, a lock, a rate-limit
 * window…) atomically, and says so instead of answering something that only looks right. The engine passes it on
 * even in safe mode: a rate limit or a lock that silently did nothing would be worse than a failure. Thrown by the
 * backend's `run`, at the first command that needs the primitive.
 * @example
 * ```ts
 * // In a backend's run(): this store has no atomic read-modify-write for bitmaps.
 * function refuse(primitive: { name: string }): never {
 *   throw new UnsupportedPrimitiveError(primitive.name, 'memcached');
 * }
 * ```
 */
export class UnsupportedPrimitiveError extends CashewsError {
  override readonly code = 'CASHEWS_UNSUPPORTED_PRIMITIVE';

  constructor(
    /** The primitive's `name` (`incr`, `setLock`, `fixedWindow`…). */
    readonly primitive: string,
    /** The backend's scheme or name, for the message. */
    readonly backend: string,
    message = `The ${backend} backend cannot run the primitive "${primitive}" atomically, so the commands and ` +
      `decorators built on it do not work on it. Route their keys to a backend that runs it with the "prefixes" ` +
      `option, or implement it in the backend's run().`,
  ) {
    super(message);
  }
}
