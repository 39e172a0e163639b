import { CashewsConfigError } from '../../errors.js';
import type { CommandHook } from '../command-hook.js';
import { rewriteKeys } from './rewrite-keys.js';
import { withKeyRewrite } from './key-rewrite.js';

/**
 * A command hook that puts every key of the instance under `prefix`: reads, writes, deletes, patterns
 * (`deleteMatch`, `scan`, `@Invalidate`), tags, locks, rate limits and circuits alike, decorated methods included. Keys
 * come back from `scan`/`getMatch` without it, so code written without the prefix keeps working. Several apps
 * (or versions of one app) can share a Redis database this way without seeing each other's keys, except through
 * `clear()`, which empties the whole database.
 * @throws CashewsConfigError when `prefix` is empty or holds `*`.
 * @example
 * ```ts
 * const cache = await createCache('redis://127.0.0.1:6379/0', { hooks: [addPrefix('billing:')] });
 * await cache.set('invoice:1', { total: 10 }); // stored as billing:invoice:1
 * ```
 */
export function addPrefix(prefix: string): CommandHook {
  if (typeof prefix !== 'string' || prefix === '' || prefix.includes('*')) {
    throw new CashewsConfigError(
      `addPrefix(${JSON.stringify(prefix) ?? String(prefix)}): the prefix must be a non-empty string without "*", ` +
        `e.g. addPrefix('billing:').`,
    );
  }
  const add = (key: string) => prefix + key;
  return withKeyRewrite(
    {
      name: `addPrefix(${prefix})`,
      handle(call, next) {
        // Tags too: two apps sharing a database each delete only their own keys by tag.
        const rewritten = rewriteKeys(call, add, add);
        if (call.command !== 'scan') return next(rewritten);
        return next(rewritten).then((keys) => stripPrefix(keys as AsyncIterable<string>, prefix));
      },
    },
    add,
  );
}

async function* stripPrefix(keys: AsyncIterable<string>, prefix: string): AsyncIterable<string> {
  for await (const key of keys) if (key.startsWith(prefix)) yield key.slice(prefix.length);
}
