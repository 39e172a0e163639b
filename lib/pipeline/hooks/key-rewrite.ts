import type { CommandHook } from '../command-hook.js';

/**
 * How a built-in hook rewrites keys (`addPrefix`, `lowerKeys`; the identity for the built-ins that keep them), so
 * that prefix routing can follow the key the caller gave without calling the hook (see lib/pipeline/route-keys.ts).
 * A hook without it (one of the application's) is probed instead.
 */
const KEY_REWRITE = Symbol('cashews.keyRewrite');

type Rewrite = (key: string) => string;

/** `hook`, marked as rewriting each key by `rewrite`. */
export function withKeyRewrite<H extends CommandHook>(hook: H, rewrite: Rewrite): H {
  return Object.defineProperty(hook, KEY_REWRITE, { value: rewrite });
}

/** The key rewrite a built-in hook declares; `undefined` for any other hook. */
export function keyRewriteOf(hook: CommandHook): Rewrite | undefined {
  return (hook as { [KEY_REWRITE]?: Rewrite })[KEY_REWRITE];
}

/** The rewrite of the hooks that keep keys as they are. */
export const SAME_KEY: Rewrite = (key) => key;
