/**
 * Escaping of user-controlled text placed inside a key. `*` is the only pattern wildcard and `:` the separator,
 * so letting either through would let `('a:b')` collide with `('a', 'b')` or let a value widen an invalidation
 * pattern; the Redis glob characters, whitespace and control characters are escaped too so a key is safe to log,
 * to paste into `redis-cli` and to use in a `SCAN MATCH`.
 */

// `%` is escaped too: that is what makes the encoding injective (every `%` in the output starts an escape).
const UNSAFE = /[%*:?[\]\\{}\s\p{Cc}]/u;
const UNSAFE_GLOBAL = /[%*:?[\]\\{}\s\p{Cc}]/gu;

function encode(ch: string): string {
  const code = ch.charCodeAt(0);
  // encodeURIComponent leaves `*` and friends alone, so ASCII is encoded by hand; beyond ASCII it gives UTF-8 bytes.
  return code < 0x80 ? `%${code.toString(16).toUpperCase().padStart(2, '0')}` : encodeURIComponent(ch);
}

/**
 * Makes `text` safe inside a key: percent-encodes `%`, `*`, `:`, `?`, `[`, `]`, `\`, `{`, `}`, whitespace and
 * control characters (UTF-8 bytes, upper-case hex). Injective: different inputs never give the same output, and
 * every `%` in the output is followed by two hex digits.
 *
 * @example
 * ```ts
 * escapeKeyPart('a:b'); // 'a%3Ab'
 * escapeKeyPart('*');   // '%2A'
 * escapeKeyPart('red'); // 'red'
 * ```
 */
export function escapeKeyPart(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_GLOBAL, encode) : text;
}
