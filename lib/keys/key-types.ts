import { CashewsConfigError } from '../errors.js';

/** Renders an instance of a registered class as its part of a key. */
export type KeyTypeRenderer<T> = (value: T) => string;

const renderers = new Map<unknown, { name: string; render: KeyTypeRenderer<never> }>();
const NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Registers how instances of `type` appear in cache keys (default keys and `{placeholders}`), instead of their
 * JSON-like text: `registerKeyType(Money, (m) => `${m.amount}${m.currency}`)` keys a `Money` as
 * `=Money("10EUR")`. The class name stays in the key, so a `Money` and a string or another type with the same text
 * never share an entry. Exact class only (a subclass needs its own registration); register before the decorated
 * classes are used.
 * @throws CashewsConfigError for a non-class, an anonymous class, a renderer that is not a function, or a class
 *   already registered with another renderer.
 * @example
 * ```ts
 * class Money {
 *   constructor(readonly amount: number, readonly currency: string) {}
 * }
 * registerKeyType(Money, (m) => `${m.amount}${m.currency}`);
 * ```
 */
export function registerKeyType<T extends object>(
  type: abstract new (...args: never[]) => T,
  render: KeyTypeRenderer<T>,
): void {
  if (typeof type !== 'function' || !NAME.test(type.name)) {
    throw new CashewsConfigError(
      `registerKeyType(type, render): type must be a named class (got ${typeof type === 'function' ? 'an anonymous one' : typeof type}).`,
    );
  }
  if (typeof render !== 'function') {
    throw new CashewsConfigError(`registerKeyType(${type.name}, render): render must be a function (value) => string.`);
  }
  const existing = renderers.get(type);
  if (existing && existing.render !== render) {
    throw new CashewsConfigError(`registerKeyType(${type.name}): already registered with another renderer.`);
  }
  renderers.set(type, { name: type.name, render: render as KeyTypeRenderer<never> });
}

/** The key text of a registered type's instance (`=Name("text")`), or `undefined` for any other object. */
export function renderKeyType(value: object): string | undefined {
  if (renderers.size === 0) return undefined;
  // The prototype's own constructor, not a `constructor` property the value may carry (user input).
  const proto = Object.getPrototypeOf(value) as { constructor?: unknown } | null;
  const ctor = proto && Object.hasOwn(proto, 'constructor') ? proto.constructor : undefined;
  const entry = typeof ctor === 'function' ? renderers.get(ctor) : undefined;
  if (!entry) return undefined;
  const text = (entry.render as KeyTypeRenderer<object>)(value);
  if (typeof text !== 'string') {
    throw new CashewsConfigError(
      `The key renderer of ${entry.name} returned a ${typeof text}; it must return a string.`,
    );
  }
  return `=${entry.name}(${JSON.stringify(text)})`;
}
