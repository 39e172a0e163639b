import { LEFT_OUT } from './left-out.js';
import { MemoBudget } from './memo-budget.js';

/**
 * The keys a key function (a default key, or a template whose placeholders each name an argument as it is) rendered
 * for recent calls, so that a call repeating earlier arguments gets back
 * the very string it got then. A cache hit is such a call by definition, and on memory its cost was mostly the key:
 * rendering and escaping each argument, joining the parts into a new string, then hashing that string again in the
 * store's own map. A remembered key is one map step per argument, and the store finds it by the hash the string
 * already carries (the entry was stored under that same string).
 *
 * Only calls of one to {@link MAX_ARITY} arguments that are all short primitives are remembered: their rendering
 * depends on nothing but their values (no registered key types, no context), and a JavaScript `Map` tells them apart
 * as the rendering does, except `0` and `-0`, which it treats as one key and the rendering does not, so zero is left
 * out. At most {@link LIMIT} entries are held (see {@link MemoBudget}).
 */
export class KeyMemo<S = readonly unknown[]> {
  /** One tree per arity: a map from the first argument to the key, or to the map of the next argument. */
  private roots: Array<Map<unknown, unknown> | undefined> = [];
  private readonly budget = new MemoBudget(LIMIT);

  /** `render` builds the key of a call from `source`, which defaults to the values the memo is keyed by. */
  constructor(private readonly render: (source: S) => string) {}

  /**
   * The key of the call whose key depends on `args` alone (`source`, what `render` reads, when it is not `args`
   * itself): remembered when it was rendered recently, else rendered (and remembered when it may be).
   */
  keyOf(args: readonly unknown[], source: S = args as S): string {
    const arity = args.length;
    if (arity === 0 || arity > MAX_ARITY || !this.budget.open()) return this.render(source);
    for (let i = 0; i < arity; i++) if (!remembered(args[i])) return this.render(source);
    let level = this.roots[arity];
    if (level === undefined) level = this.roots[arity] = new Map();
    let added = 1;
    for (let i = 0; i < arity - 1; i++) {
      let next = level.get(args[i]) as Map<unknown, unknown> | undefined;
      if (next === undefined) {
        level.set(args[i], (next = new Map()));
        added++;
      }
      level = next;
    }
    const known = level.get(args[arity - 1]) as string | undefined;
    if (known !== undefined) {
      this.budget.hit();
      return known;
    }
    const key = this.render(source);
    level.set(args[arity - 1], key);
    if (this.budget.added(added)) this.roots = [];
    return key;
  }
}

/** Calls of more arguments are rendered every time (rare on hot paths, and a deeper tree per call). */
export const MAX_ARITY = 3;
/** Entries (keys and inner maps) per memo (one per default key or template): a few hundred kilobytes at most. */
const LIMIT = 4096;
/** Longest string argument remembered: longer ones (texts, tokens) are rarely repeated and costly to hold. */
const MAX_TEXT = 64;

/** Whether a key of `value` may be remembered: a value the `Map` tells apart exactly as the rendering does. */
function remembered(value: unknown): boolean {
  switch (typeof value) {
    case 'number':
      return value !== 0; // 0 and -0 are one Map key but two key parts ('0', '-0')
    case 'string':
      return value.length <= MAX_TEXT;
    case 'boolean':
    case 'undefined':
      return true;
    default:
      // An argument a default key leaves out (left-out.ts) renders nothing, the same for every call.
      return value === null || value === LEFT_OUT;
  }
}
