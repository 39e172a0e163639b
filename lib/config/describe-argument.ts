/**
 * How an error message names a value a caller passed where another kind was expected: its kind, and its text when
 * short and harmless to show (a number, a boolean), or the string itself for a string the caller meant as something
 * else (a tag list or a key list given as one string).
 * @example
 * ```ts
 * describeArgument(5);       // 'the number 5'
 * describeArgument('user');  // 'the string "user"'
 * describeArgument([1]);     // 'an array'
 * ```
 */
export function describeArgument(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value)}`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return `the ${typeof value} ${String(value)}`;
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}
