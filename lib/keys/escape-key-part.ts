/**
 * Escaping of user-controlled text placed inside a key. `*` is the only pattern wildcard and `:` the separator,
 * so letting either through would let `('a:b')` collide with `('a', 'b')` or let a value widen an invalidation
 * pattern; the Redis glob characters, whitespace and control characters are escaped too so a key is safe to log,
 * to paste into `redis-cli` and to use in a `SCAN MATCH`.
 */

// `%` is escaped too: that is what makes the encoding injective (every `%` in the output starts an escape).
// `\p{Cs}` (with the `u` flag) matches only lone surrogates: a well-formed pair is one code point (an emoji).
const UNSAFE = /[%*:?[\]\\{}\s\p{Cc}\p{Cs}]/u;
const UNSAFE_GLOBAL = /[%*:?[\]\\{}\s\p{Cc}\p{Cs}]/gu;

/** 1 for each ASCII character {@link UNSAFE} matches: the same set, spelled out for the fast path. */
const UNSAFE_ASCII = new Uint8Array(0x80);
for (let code = 0; code < 0x80; code++) if (UNSAFE.test(String.fromCharCode(code))) UNSAFE_ASCII[code] = 1;

function hex(byte: number): string {
  return `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
}

function encode(ch: string): string {
  const code = ch.charCodeAt(0);
  // encodeURIComponent leaves `*` and friends alone, so ASCII is encoded by hand; beyond ASCII it gives UTF-8 bytes.
  if (code < 0x80) return hex(code);
  // A lone surrogate has no UTF-8 form: written as text it would reach Redis as U+FFFD (`%EF%BF%BD`) and share
  // that character's key. Its own three bytes (as WTF-8 writes them, `\uD800` → `%ED%A0%80`) keep it apart.
  if (code >= 0xd800 && code <= 0xdfff)
    return hex(0xe0 | (code >> 12)) + hex(0x80 | ((code >> 6) & 0x3f)) + hex(0x80 | (code & 0x3f));
  return encodeURIComponent(ch);
}

/**
 * Makes `text` safe inside a key: percent-encodes `%`, `*`, `:`, `?`, `[`, `]`, `\`, `{`, `}`, whitespace,
 * control characters (UTF-8 bytes, upper-case hex) and lone surrogates (their WTF-8 bytes, e.g. `%ED%A0%80`).
 * Injective, also once the key is written as UTF-8: different inputs never give the same bytes, and every `%`
 * in the output is followed by two upper-case hex digits.
 *
 * @example
 * ```ts
 * escapeKeyPart('a:b'); // 'a%3Ab'
 * escapeKeyPart('*');   // '%2A'
 * escapeKeyPart('red'); // 'red'
 * ```
 */
export function escapeKeyPart(text: string): string {
  // Most parts are short ASCII words with nothing to escape: a look-up per character answers them faster than the
  // Unicode-aware expression, which still decides everything else.
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80 || UNSAFE_ASCII[code] === 1) return UNSAFE.test(text) ? text.replace(UNSAFE_GLOBAL, encode) : text;
  }
  return text;
}
