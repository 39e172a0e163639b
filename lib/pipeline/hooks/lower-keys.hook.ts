import type { CommandHook } from '../command-hook.js';
import { rewriteKeys } from './rewrite-keys.js';
import { withKeyRewrite } from './key-rewrite.js';

/**
 * A command hook that lower-cases every key, pattern and protection name (not values, not tags), so `User:1` and
 * `user:1` are one entry: for keys built from user input whose case does not matter (e-mail addresses, slugs).
 * @example
 * ```ts
 * const cache = await createCache('mem://', { hooks: [lowerKeys()] });
 * await cache.set('User:Ada@Example.com', 1);
 * console.log(await cache.get('user:ada@example.com')); // 1
 * ```
 */
export function lowerKeys(): CommandHook {
  const lower = (key: string) => key.toLowerCase();
  return withKeyRewrite({ name: 'lowerKeys', handle: (call, next) => next(rewriteKeys(call, lower)) }, lower);
}
