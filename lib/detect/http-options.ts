import { CashewsConfigError } from '../errors.js';

/** HTTP behaviour of `CashewsModule.forRoot` (module options; all off by default). */
export interface CashewsHttpOptions {
  /**
   * Tell clients what came from cache: `X-From-Cache: <key>`, `X-From-Cache-Expire-In-Seconds: <n>` and,
   * for a failover value, `X-From-Cache-Exc: <error name>`. Same as applying {@link FromCacheMiddleware}.
   */
  detectHeaders?: boolean;
  /**
   * Honour the request's `Cache-Control` (`no-cache`, `no-store`, `max-age=N`) and send `Age` and
   * `Cache-Control: private, max-age=<remaining>` with responses served from cache. `{ public: true }`
   * sends `public` instead of `private`.
   */
  cacheControl?: boolean | { public?: boolean };
  /** A request with `Clear-Site-Data: "cache"` (or `"*"`) deletes every key its cache reads touch. */
  clearSiteData?: boolean;
  /**
   * Fills the key context (`{@name}` in key templates, see `keyContext`) from each HTTP request, for the handler
   * and everything it calls: `keyContext: (req) => ({ tenant: req.headers['x-tenant'] })`. The request is the
   * adapter's (Express or Fastify); answer `undefined` for nothing.
   */
  keyContext?: (req: KeyContextRequest) => Readonly<Record<string, unknown>> | undefined;
}

/** What {@link CashewsHttpOptions.keyContext} reads: the adapter's request (Express or Fastify). */
export interface KeyContextRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: unknown;
  readonly user?: unknown;
  readonly [name: string]: unknown;
}

/** What an application has switched on, across every `forRoot` of it. */
export interface HttpFeatures {
  detectHeaders: boolean;
  cacheControl: boolean;
  publicCache: boolean;
  clearSiteData: boolean;
  /** The `keyContext` options of the application's `forRoot`s, applied in order (later names win). */
  keyContext: ReadonlyArray<NonNullable<CashewsHttpOptions['keyContext']>>;
}

/**
 * Merges the HTTP options of an application's `forRoot`s (kept by `CashewsRegistry`): a feature is on when any of
 * them turns it on.
 */
export function httpFeatures(optionsList: Iterable<CashewsHttpOptions>): HttpFeatures {
  const features: HttpFeatures = {
    detectHeaders: false,
    cacheControl: false,
    publicCache: false,
    clearSiteData: false,
    keyContext: [],
  };
  for (const options of optionsList) {
    checkHttpOptions(options);
    features.detectHeaders ||= options.detectHeaders === true;
    features.cacheControl ||= Boolean(options.cacheControl);
    features.publicCache ||= typeof options.cacheControl === 'object' && options.cacheControl.public === true;
    features.clearSiteData ||= options.clearSiteData === true;
    if (options.keyContext !== undefined) {
      if (typeof options.keyContext !== 'function') {
        throw new CashewsConfigError(
          `Invalid CashewsModule option "keyContext": expected a function of the request answering the key ` +
            `context, e.g. keyContext: (req) => ({ tenant: req.headers['x-tenant'] }).`,
        );
      }
      features.keyContext = [...features.keyContext, options.keyContext];
    }
  }
  return features;
}

/**
 * Refuses HTTP options of the wrong kind: a string from an environment variable would otherwise read as on
 * (`cacheControl: 'false'`) or off (`detectHeaders: 'yes'`), and a misspelt `{ pubic: true }` as private.
 */
function checkHttpOptions(options: CashewsHttpOptions): void {
  for (const option of ['detectHeaders', 'clearSiteData'] as const) {
    const value: unknown = options[option];
    if (value !== undefined && typeof value !== 'boolean') {
      throw new CashewsConfigError(
        `Invalid CashewsModule option ${option}: ${JSON.stringify(value)}. Accepted: true or false.`,
      );
    }
  }
  const cacheControl: unknown = options.cacheControl;
  if (cacheControl === undefined || typeof cacheControl === 'boolean') return;
  const publicOnly =
    typeof cacheControl === 'object' &&
    cacheControl !== null &&
    !Array.isArray(cacheControl) &&
    Object.keys(cacheControl).every((name) => name === 'public') &&
    ['undefined', 'boolean'].includes(typeof (cacheControl as { public?: unknown }).public);
  if (!publicOnly) {
    throw new CashewsConfigError(
      `Invalid CashewsModule option cacheControl: ${JSON.stringify(cacheControl) ?? String(cacheControl)}. ` +
        `Accepted: true, false or { public: true } (send Cache-Control: public rather than private).`,
    );
  }
}
