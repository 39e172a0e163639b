import type { CommandHook } from './command-hook.js';
import { keyRewriteOf } from './hooks/key-rewrite.js';

/**
 * Prefix routing and key-rewriting hooks. The router sees keys as the hooks leave them, while its routes name keys as
 * the caller gives them (`prefixes: { 'tmp:': … }` with `addPrefix('app:')` stores `tmp:1` as `app:tmp:1`). The
 * built-in hooks declare their rewrite (lib/pipeline/hooks/key-rewrite.ts): what they put in front of every key is
 * the prefix the router strips before matching its routes ({@link storedKeyPrefix}). A route the hooks still send
 * elsewhere (`lowerKeys()` with a route `'Tmp:'`, or a hook of the application's that rewrites keys its own way) is
 * reported by {@link unreachableRoutes}, found by passing a key of the route through the hooks.
 */

/** What the declared rewrites of `hooks` put in front of every key (`addPrefix`), applied in order. */
export function storedKeyPrefix(hooks: readonly CommandHook[]): string {
  let prefix = '';
  for (const hook of hooks) {
    const rewrite = keyRewriteOf(hook);
    if (rewrite) prefix = rewrite(prefix);
  }
  return prefix;
}

/** A key of the route, as a probe: what the caller would write under it. */
const PROBE = 'cashews-route-check';

/**
 * The routes whose keys `hooks` send to another backend, each with the key the probe became. A hook that declares
 * its rewrite is applied without being called; any other hook is called once per route with `exists(<prefix>…)`
 * and a `next` that answers `false` without reaching a backend (a hook answering without `next` keeps the key out
 * of the check).
 */
export async function unreachableRoutes(
  hooks: readonly CommandHook[],
  prefixes: readonly string[],
  routeOf: (storedKey: string) => string,
): Promise<Array<{ prefix: string; stored: string }>> {
  const unreachable: Array<{ prefix: string; stored: string }> = [];
  for (const prefix of prefixes) {
    const stored = await throughHooks(hooks, prefix + PROBE);
    if (stored !== undefined && routeOf(stored) !== prefix) unreachable.push({ prefix, stored });
  }
  return unreachable;
}

/** The key the hooks pass on for `key`; `undefined` when one of them answers without passing it on. */
async function throughHooks(hooks: readonly CommandHook[], key: string): Promise<string | undefined> {
  let stored: string | undefined;
  const step = async (index: number, current: string): Promise<unknown> => {
    if (index === hooks.length) {
      stored = current;
      return false;
    }
    const hook = hooks[index];
    const rewrite = keyRewriteOf(hook);
    if (rewrite) return step(index + 1, rewrite(current));
    return hook.handle({ command: 'exists', args: [current] }, (call) =>
      step(index + 1, call.command === 'exists' ? call.args[0] : current),
    );
  };
  await step(0, key);
  return stored;
}
