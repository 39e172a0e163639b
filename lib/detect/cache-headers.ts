import { createHash } from 'node:crypto';
import type { CacheHit } from './cache-detect.js';

/**
 * Response headers describing what was served from cache. Several hits (one per cached call) are listed
 * together; the expiry is the earliest one, the age the oldest one. Loops rather than array helpers: this runs for
 * every response served from cache.
 */
export function fromCacheHeaders(hits: readonly CacheHit[]): Record<string, string> {
  let keys = '';
  let errors: string[] | undefined;
  for (let i = 0; i < hits.length; i++) {
    const hit = hits[i];
    keys = i === 0 ? headerSafe(hit.key) : `${keys}, ${headerSafe(hit.key)}`;
    if (hit.exception) {
      const name = headerSafe(hit.exception);
      if (!errors) errors = [name];
      else if (!errors.includes(name)) errors.push(name);
    }
  }
  const headers: Record<string, string> = { 'X-From-Cache': keys };
  const left = remainingSeconds(hits);
  if (left !== undefined) headers['X-From-Cache-Expire-In-Seconds'] = String(left);
  if (errors) headers['X-From-Cache-Exc'] = errors.join(', ');
  return headers;
}

/**
 * `Age` and `Cache-Control` of a response served from cache; `publicCache`: `public` rather than `private` (the caller
 * asks for it only when the route itself was served from cache, see `DetectScope.served`).
 */
export function cacheControlHeaders(hits: readonly CacheHit[], publicCache: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  let oldest: number | undefined;
  for (const hit of hits) {
    if (hit.age !== undefined) oldest = oldest === undefined ? hit.age : Math.max(oldest, hit.age);
  }
  if (oldest !== undefined) headers['Age'] = String(Math.floor(oldest / 1000));
  const left = remainingSeconds(hits);
  const scope = publicCache ? 'public' : 'private';
  headers['Cache-Control'] = left === undefined ? scope : `${scope}, max-age=${left}`;
  return headers;
}

/** Whole seconds until the first served entry expires; `undefined` when none has a known expiry. */
function remainingSeconds(hits: readonly CacheHit[]): number | undefined {
  let first: number | undefined;
  for (const hit of hits) {
    const ttl = hit.ttl;
    if (ttl !== undefined && ttl >= 0) first = first === undefined ? ttl : Math.min(first, ttl);
  }
  return first === undefined ? undefined : Math.floor(first / 1000);
}

// With the `u` flag an emoji is one match (not two halves that encodeURIComponent would refuse); `%` and space are
// encoded too, so `decodeURIComponent` of each comma-separated item gives the key back.
const NOT_HEADER_SAFE = /[^\x21-\x24\x26-\x7e]/gu;
const LONE_SURROGATE = /\p{Cs}/u;
/** {@link NOT_HEADER_SAFE} without `g`: `test` keeps no position between calls. */
const HAS_UNSAFE = /[^\x21-\x24\x26-\x7e]/u;

/**
 * Header values must be visible ASCII: anything else in a key (and `%`, and spaces) is percent-encoded as UTF-8,
 * so `decodeURIComponent` of the value gives the key back. A lone surrogate has no UTF-8 form and is sent as
 * U+FFFD's bytes (`%EF%BF%BD`); keys built by the decorators never hold one (they escape it). Never throws.
 */
export function headerSafe(text: string): string {
  // Most keys need nothing: a test costs half a replace that finds nothing.
  if (!HAS_UNSAFE.test(text)) return text;
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
