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
    case 'object': {
      // A built-in's own tag (`Map`, `Date`, `Number` for `new Number(5)`): 'an object' would say nothing.
      const tag = Object.prototype.toString.call(value).slice(8, -1);
      return tag === 'Object' ? 'an object' : `a ${tag}`;
    }
    default:
      return `a ${typeof value}`;
  }
}

/**
 * A value as configuration errors quote it: its JSON text (strings in quotes), except the numbers JSON cannot write,
 * which it would print as `null` (`Infinity`, `NaN`), and what JSON has no text for (`undefined`, a function).
 * @example
 * ```ts
 * showValue('soon');   // '"soon"'
 * showValue(Infinity); // 'Infinity'
 * ```
 */
export function showValue(value: unknown): string {
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value) ?? String(value);
}
