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
}

/** What an application has switched on, across every `forRoot` of it. */
export interface HttpFeatures {
  detectHeaders: boolean;
  cacheControl: boolean;
  publicCache: boolean;
  clearSiteData: boolean;
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
  };
  for (const options of optionsList) {
    features.detectHeaders ||= options.detectHeaders === true;
    features.cacheControl ||= Boolean(options.cacheControl);
    features.publicCache ||= typeof options.cacheControl === 'object' && options.cacheControl.public === true;
    features.clearSiteData ||= options.clearSiteData === true;
  }
  return features;
}
