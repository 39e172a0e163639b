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

const byInstance = new WeakMap<object, CashewsHttpOptions>();

/** Records the HTTP options given to `forRoot` with the cache instance it created. */
export function setHttpOptions(instance: object, options: CashewsHttpOptions): void {
  byInstance.set(instance, options);
}

/** Merges the HTTP options of the given cache instances: a feature is on when any instance turns it on. */
export function httpFeatures(instances: Iterable<unknown>): HttpFeatures {
  const features: HttpFeatures = {
    detectHeaders: false,
    cacheControl: false,
    publicCache: false,
    clearSiteData: false,
  };
  for (const instance of instances) {
    const options = typeof instance === 'object' && instance !== null ? byInstance.get(instance) : undefined;
    if (!options) continue;
    features.detectHeaders ||= options.detectHeaders === true;
    features.cacheControl ||= Boolean(options.cacheControl);
    features.publicCache ||= typeof options.cacheControl === 'object' && options.cacheControl.public === true;
    features.clearSiteData ||= options.clearSiteData === true;
  }
  return features;
}
