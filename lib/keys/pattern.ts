/**
 * Key patterns accept `*` as the only wildcard; every other character, including Redis glob syntax
 * (`?`, `[`, `]`, `\`), is literal, so a key built from user input cannot widen a scan or a delete.
 */

/** Pattern → Redis MATCH glob with the glob metacharacters escaped. */
export function toRedisGlob(pattern: string): string {
  return pattern.replace(/[?[\]\\]/g, (c) => `\\${c}`);
}

/** Pattern → anchored RegExp for in-process matching. */
export function toRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}
