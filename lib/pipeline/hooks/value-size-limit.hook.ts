import { CashewsConfigError } from '../../errors.js';
import { parseSize } from '../../size.js';
import type { CommandHook } from '../command-hook.js';
import { SAME_KEY, withKeyRewrite } from './key-rewrite.js';

/** Options of {@link valueSizeLimit}: sizes in bytes, or strings such as `'1KB'`, `'2MB'`. */
export interface ValueSizeLimitOptions {
  /** Values smaller than this are not stored (cheap to recompute, not worth a slot). */
  min?: number | string;
  /** Values larger than this are not stored (they would evict many small ones, or strain Redis). */
  max?: number | string;
}

/** What {@link valueSizeLimit} reports in `cache.stats().hooks`. */
export interface ValueSizeLimitStats {
  /** Writes skipped because the value was under `min`. */
  readonly tooSmall: number;
  /** Writes skipped because the value was over `max`. */
  readonly tooLarge: number;
}

/**
 * A command hook that skips storing values whose size is outside `[min, max]`: `set` answers `false` (as when
 * `exist` prevents a write), `setMany` stores the others, and a decorated method still returns its result, just
 * uncached. The size is that of the value's JSON text in UTF-8 (maps, sets and bigints counted as their
 * entries and digits), measured before the codec, so it is the same on every backend. Skipped writes are counted
 * in `cache.stats().hooks`.
 * @throws CashewsConfigError for a size that is not a non-negative number of bytes or a string like `'64KB'`, or
 *   `min` above `max`.
 * @example
 * ```ts
 * const cache = await createCache('redis://127.0.0.1:6379/0', { hooks: [valueSizeLimit({ max: '512KB' })] });
 * const hugeReport = 'x'.repeat(1_000_000);
 * await cache.set('report', hugeReport); // false: over 512 KB
 * console.log(cache.stats().hooks); // [{ name: 'valueSizeLimit', stats: { tooSmall: 0, tooLarge: 1 } }]
 * ```
 */
export function valueSizeLimit(options: ValueSizeLimitOptions): CommandHook & { stats(): ValueSizeLimitStats } {
  const min = options.min === undefined ? 0 : parseSize(options.min, 'valueSizeLimit min');
  const max = options.max === undefined ? Infinity : parseSize(options.max, 'valueSizeLimit max');
  if (min > max) {
    throw new CashewsConfigError(`valueSizeLimit: min (${min} bytes) is above max (${max} bytes).`);
  }
  let tooSmall = 0;
  let tooLarge = 0;
  /** Whether a value of this size may be stored; counts it when not. */
  const fits = (value: unknown): boolean => {
    const size = byteSize(value, max);
    if (size < min) tooSmall++;
    else if (size > max) tooLarge++;
    else return true;
    return false;
  };
  // Keeps keys as they are: prefix routing need not probe it (see key-rewrite.ts).
  return withKeyRewrite(
    {
      name: 'valueSizeLimit',
      stats: () => ({ tooSmall, tooLarge }),
      handle(call, next) {
        if (call.command === 'set') return fits(call.args[1]) ? next(call) : Promise.resolve(false);
        if (call.command === 'setMany') {
          const kept = call.args[0].filter(([, value]) => fits(value));
          return next({ command: 'setMany', args: [kept, call.args[1]] });
        }
        return next(call);
      },
    },
    SAME_KEY,
  );
}

const encoder = new TextEncoder();

/**
 * UTF-8 bytes of the value's JSON text, with maps, sets, bigints and `undefined` counted too. Stops measuring once
 * over `cap` (the answer is then only known to be above it), so a huge value costs no more than `cap` to refuse.
 */
function byteSize(value: unknown, cap: number): number {
  let total = 0;
  const stack: unknown[] = [value];
  const seen = new Set<object>();
  while (stack.length && total <= cap) {
    const item = stack.pop();
    if (typeof item === 'string') total += encoder.encode(item).length + 2;
    else if (typeof item === 'number' || typeof item === 'boolean') total += String(item).length;
    else if (typeof item === 'bigint') total += item.toString().length;
    else if (item === null || item === undefined) total += 4;
    else if (item instanceof Date) total += 26;
    else if (typeof item === 'object') {
      // A cycle is the codec's to refuse; here it must only not loop.
      if (seen.has(item)) continue;
      seen.add(item);
      if (Array.isArray(item) || item instanceof Set) {
        const values = [...(item as Iterable<unknown>)];
        total += 2 + values.length;
        for (const value of values) stack.push(value);
      } else if (item instanceof Map) {
        total += 2 + item.size;
        for (const [key, value] of item) stack.push(key, value);
      } else {
        const keys = Object.keys(item);
        total += 2 + keys.length;
        for (const key of keys) stack.push(key, (item as Record<string, unknown>)[key]);
      }
    }
  }
  return total;
}
