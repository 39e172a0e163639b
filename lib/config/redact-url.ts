/**
 * The one place a cache URL is made fit to show (logs, errors, `stats()`, `/metrics`, the stats page): the
 * password of the user info and the value of every credential-like query parameter become `***`.
 */

const MASK = '***';

/** Query parameter names whose value is never shown: secret, password, pass, pwd, token, key, auth, credential. */
const CREDENTIAL = /secret|pass|pwd|token|key|auth|cred/;

/** True for a parameter name that may carry a credential (`secret`, `auth_token`, `apiKey`, `PASSWORD`...). */
export function isCredentialName(name: string): boolean {
  let text = name;
  try {
    text = decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    // keep the raw name
  }
  return CREDENTIAL.test(text.toLowerCase().replace(/[-_\s]/g, ''));
}

/** A cache URL cut at its user info: `scheme://`, the raw user info (undefined when none), and everything after it. */
export interface UrlParts {
  head: string;
  userinfo: string | undefined;
  tail: string;
}

/**
 * Splits off the user info. It ends at the last `@` before the query's first `name=` (so a password may hold
 * `:`, `@`, `/`, `?` or `#`, while an `@` in a query value such as `secret=a@b` is not taken for it).
 */
export function splitUserinfo(url: string): UrlParts {
  const start = url.indexOf('://');
  if (start < 0) return { head: '', userinfo: undefined, tail: url };
  const head = url.slice(0, start + 3);
  const rest = url.slice(start + 3);
  const question = rest.indexOf('?');
  const equals = question < 0 ? -1 : rest.indexOf('=', question);
  const at = rest.lastIndexOf('@', equals < 0 ? rest.length : equals);
  if (at < 0) return { head, userinfo: undefined, tail: rest };
  return { head, userinfo: rest.slice(0, at), tail: rest.slice(at + 1) };
}

/**
 * Returns `url` with the user info's password (or a lone user info, which may be a token) and the value of
 * every credential-like query parameter replaced by `***`; `hide` can name further parameters to mask.
 * @example redactUrl('redis://app:pa:ss@host:6379/0?secret=k') // 'redis://app:***@host:6379/0?secret=***'
 */
export function redactUrl(url: string, hide?: (name: string) => boolean): string {
  const { head, userinfo, tail } = splitUserinfo(String(url));
  let shown = head;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    shown += colon < 0 ? `${MASK}@` : `${userinfo.slice(0, colon)}:${MASK}@`;
  }
  const question = tail.indexOf('?');
  if (question < 0) return shown + tail;
  const query = tail
    .slice(question + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      if (equals < 0) return pair;
      const name = pair.slice(0, equals);
      return isCredentialName(name) || hide?.(name) ? `${name}=${MASK}` : pair;
    })
    .join('&');
  return `${shown}${tail.slice(0, question + 1)}${query}`;
}
