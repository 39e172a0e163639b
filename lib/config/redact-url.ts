/**
 * The one place a cache URL is made fit to show (logs, errors, `stats()`, `/metrics`, the stats page): the
 * password of the user info and the value of every credential-like query parameter become `***`.
 */

const MASK = '***';

/** Query parameter names whose value is never shown: secret, password, pass, pwd, token, key, auth, credential. */
const CREDENTIAL = /secret|pass|pwd|token|key|auth|cred/;

/** True for a parameter name that may carry a credential (`secret`, `auth_token`, `apiKey`, `PASSWORD`...). */
export function isCredentialName(name: string): boolean {
  return CREDENTIAL.test(
    decodedName(name)
      .toLowerCase()
      .replace(/[-_\s]/g, ''),
  );
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

/** Hosts as a URL without user info gives them: `host[:port]`, comma-separated (Cluster), then a path. */
const HOSTS = /^(?:\[[^\]]*\]|[^:@/,]*)(?::\d*)?(?:,(?:\[[^\]]*\]|[^:@/,]*)(?::\d*)?)*(?:\/[^?]*)?$/;

/**
 * The user info as it is shown: as {@link splitUserinfo} finds it, or up to a later `@` outside the value of a
 * credential-like parameter. The parser's rule cannot tell `app:Pa55?w=rd9@host` (a password holding `?` and `=`)
 * from `host/0?prefix=a@b`; shown, both are read as user info and masked, so a password is never displayed, at the
 * price of hiding more than needed in the second case.
 */
function shownParts(url: string): UrlParts {
  const parts = splitUserinfo(url);
  const start = url.indexOf('://');
  if (start < 0) return parts;
  const rest = url.slice(start + 3);
  const lastAt = rest.lastIndexOf('@');
  const found = parts.userinfo?.length ?? -1;
  if (lastAt <= found) return parts;
  const question = rest.indexOf('?');
  if (question >= 0 && question < lastAt && HOSTS.test(rest.slice(found + 1, question))) {
    // The pair holding the `@`: a credential's value (`secret=a@b`) is masked as a value already.
    const pairStart = Math.max(rest.lastIndexOf('&', lastAt), question) + 1;
    const equals = rest.indexOf('=', pairStart);
    if (equals >= 0 && equals < lastAt && isCredentialName(rest.slice(pairStart, equals))) return parts;
  }
  return { head: parts.head, userinfo: rest.slice(0, lastAt), tail: rest.slice(lastAt + 1) };
}

/**
 * Whether the URL shown masks as user info more than the parser reads as user info: an `@` after the query's first
 * `name=` that {@link shownParts} cannot tell from the end of a password holding `?` and `=`. The parser then reads
 * that text as hosts, port or path, so an error about them must not quote it (the shown URL masks it).
 */
export function userinfoAmbiguous(url: string): boolean {
  return shownParts(url).userinfo !== splitUserinfo(url).userinfo;
}

/** One query pair as shown: the pair, masked in part or whole, and whether its name may be shown elsewhere. */
interface ShownPair {
  text: string;
  /** The name is shown and safe to repeat (in an error naming the parameter). */
  nameShown: boolean;
  name: string;
}

/**
 * The pairs of a shown query. A pair without `=` right after a credential's pair is most likely the rest of its value
 * (an unencoded `&` in a secret), and one whose name is credential-like may hold the value itself (`secret%3Dvalue`,
 * an encoded `=`): both are masked whole. The name of a pair right after a credential's may be part of it too
 * (`secret=ab&cd=ef`): shown in the URL (it cannot be told from a parameter), never repeated on its own.
 */
function shownPairs(query: string, hide?: (name: string) => boolean): ShownPair[] {
  let afterCredential = false;
  return query.split('&').map((pair) => {
    const equals = pair.indexOf('=');
    if (equals < 0) {
      const masked = afterCredential || isCredentialName(pair);
      return { text: masked ? MASK : pair, nameShown: !masked, name: decodedName(pair) };
    }
    const name = pair.slice(0, equals);
    const follows = afterCredential;
    const credential = isCredentialName(name);
    afterCredential = credential;
    const hidden = hide?.(name) === true;
    // A hidden pair (an unknown parameter's) right after a credential's may be part of it: masked whole.
    const text = follows && hidden ? MASK : credential || hidden ? `${name}=${MASK}` : pair;
    return { text, nameShown: !follows, name: decodedName(name) };
  });
}

/** A query parameter name as parsers read it (`+` a space, percent-decoded), or as written when it does not decode. */
function decodedName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/**
 * `"name"` when the query parameter `name` (as parsed, decoded) may be repeated in an error about `url`, else a
 * phrase that does not show it: a name the shown URL masks, or one that may be the tail of a secret.
 */
export function shownParameterName(url: string, name: string): string {
  const { tail } = shownParts(String(url));
  const question = tail.indexOf('?');
  const pairs = question < 0 ? [] : shownPairs(tail.slice(question + 1));
  if (pairs.some((pair) => pair.nameShown && pair.name === name)) return `"${name}"`;
  return (
    '(name not shown: it may be part of a password or secret; percent-encode "&", "=", "?" and "@" in them, ' +
    'e.g. & as %26)'
  );
}

/**
 * Returns `url` with the user info's password (or a lone user info, which may be a token) and the value of
 * every credential-like query parameter replaced by `***`; `hide` can name further parameters to mask.
 * @example redactUrl('redis://app:pa:ss@host:6379/0?secret=k') // 'redis://app:***@host:6379/0?secret=***'
 */
export function redactUrl(url: string, hide?: (name: string) => boolean): string {
  const { head, userinfo, tail } = shownParts(String(url));
  let shown = head;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    shown += colon < 0 ? `${MASK}@` : `${userinfo.slice(0, colon)}:${MASK}@`;
  }
  const question = tail.indexOf('?');
  if (question < 0) return shown + tail;
  const query = shownPairs(tail.slice(question + 1), hide)
    .map((pair) => pair.text)
    .join('&');
  return `${shown}${tail.slice(0, question + 1)}${query}`;
}
