/**
 * What an HTTP request asks of the cache (opt-in module options `cacheControl` and `clearSiteData`),
 * carried by the detection scope of the request and applied to every decorated call made inside it.
 */
export interface RequestDirectives {
  /** `Cache-Control: no-cache`: do not serve from cache; the fresh value is still stored. */
  readonly noCache?: boolean;
  /** `Cache-Control: no-store`: neither serve from cache nor store. */
  readonly noStore?: boolean;
  /** `Cache-Control: max-age=N`: entries older than this (ms) read as misses. */
  readonly maxAge?: number;
  /** `Clear-Site-Data: "cache"`: every cache read deletes its key (and misses). */
  readonly clearSiteData?: boolean;
}

type HeaderValue = string | string[] | undefined;

/** Reads the request headers into directives; `undefined` when nothing applies. */
export function parseDirectives(
  headers: Record<string, HeaderValue>,
  enabled: { cacheControl?: boolean; clearSiteData?: boolean },
): RequestDirectives | undefined {
  let noCache = false;
  let noStore = false;
  let maxAge: number | undefined;
  let clearSiteData = false;
  if (enabled.cacheControl) {
    for (const part of joined(headers['cache-control']).split(',')) {
      const [name, value] = part.trim().toLowerCase().split('=', 2);
      if (name === 'no-cache') noCache = true;
      else if (name === 'no-store') noStore = true;
      else if (name === 'max-age' && value !== undefined && /^\d{1,9}$/.test(value.replace(/"/g, ''))) {
        const ms = Number(value.replace(/"/g, '')) * 1000;
        maxAge = maxAge === undefined ? ms : Math.min(maxAge, ms);
      }
    }
  }
  if (enabled.clearSiteData) {
    clearSiteData = joined(headers['clear-site-data'])
      .split(',')
      .some((part) => ['"cache"', '"*"'].includes(part.trim().toLowerCase()));
  }
  if (!noCache && !noStore && maxAge === undefined && !clearSiteData) return undefined;
  return { noCache, noStore, maxAge, clearSiteData };
}

function joined(value: HeaderValue): string {
  return Array.isArray(value) ? value.join(',') : (value ?? '');
}
