import { createHash } from 'node:crypto';
import type { CacheHit } from './cache-detect.js';

/**
 * Response headers describing what was served from cache. Several hits (one per cached call) are listed
 * together; the expiry is the earliest one, the age the oldest one.
 */
export function fromCacheHeaders(hits: readonly CacheHit[]): Record<string, string> {
  const headers: Record<string, string> = { 'X-From-Cache': hits.map((hit) => headerSafe(hit.key)).join(', ') };
  const left = remainingSeconds(hits);
  if (left !== undefined) headers['X-From-Cache-Expire-In-Seconds'] = String(left);
  const errors = [...new Set(hits.flatMap((hit) => (hit.exception ? [headerSafe(hit.exception)] : [])))];
  if (errors.length) headers['X-From-Cache-Exc'] = errors.join(', ');
  return headers;
}

/** `Age` and `Cache-Control` of a response served from cache. */
export function cacheControlHeaders(hits: readonly CacheHit[], publicCache: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  const ages = hits.flatMap((hit) => (hit.age === undefined ? [] : [hit.age]));
  if (ages.length) headers['Age'] = String(Math.floor(Math.max(...ages) / 1000));
  const left = remainingSeconds(hits);
  const scope = publicCache ? 'public' : 'private';
  headers['Cache-Control'] = left === undefined ? scope : `${scope}, max-age=${left}`;
  return headers;
}

/** Whole seconds until the first served entry expires; `undefined` when none has a known expiry. */
function remainingSeconds(hits: readonly CacheHit[]): number | undefined {
  const ttls = hits.flatMap((hit) => (hit.ttl !== undefined && hit.ttl >= 0 ? [hit.ttl] : []));
  return ttls.length ? Math.floor(Math.min(...ttls) / 1000) : undefined;
}

// With the `u` flag an emoji is one match (not two halves that encodeURIComponent would refuse); `%` and space are
// encoded too, so `decodeURIComponent` of each comma-separated item gives the key back.
const NOT_HEADER_SAFE = /[^\x21-\x24\x26-\x7e]/gu;
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Header values must be visible ASCII: anything else in a key (and `%`, and spaces) is percent-encoded as UTF-8,
 * so `decodeURIComponent` of the value gives the key back. A lone surrogate has no UTF-8 form and is sent as
 * U+FFFD's bytes (`%EF%BF%BD`); keys built by the decorators never hold one (they escape it). Never throws.
 */
export function headerSafe(text: string): string {
  return text.replace(NOT_HEADER_SAFE, (ch) => encodeURIComponent(LONE_SURROGATE.test(ch) ? '\uFFFD' : ch));
}

/** Weak ETag of a handler result: a hash of its JSON (strings and buffers as they are sent). */
export function etagOf(result: unknown): string | undefined {
  let body: string | Buffer;
  if (typeof result === 'string' || Buffer.isBuffer(result)) body = result;
  else if (result === undefined) return undefined;
  else {
    try {
      body = JSON.stringify(result) ?? '';
    } catch {
      return undefined;
    }
  }
  return `W/"${createHash('sha1').update(body).digest('base64url')}"`;
}

/** Whether `If-None-Match` names `etag` (weak comparison, `*` matches anything). */
export function etagMatches(ifNoneMatch: string | string[] | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const wanted = etag.replace(/^W\//, '');
  const list = Array.isArray(ifNoneMatch) ? ifNoneMatch.join(',') : ifNoneMatch;
  return list.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '') === wanted;
  });
}
