import type { Backend } from '../backends/backend.interface.js';
import { incrPrimitive } from '../primitives/incr.primitive.js';

/**
 * One write of a transaction's commit, as the backend receives it: raw values (already encoded), TTLs in ms. A
 * commit is a list of these, applied in order; a key may appear more than once (a counter deleted, then counted
 * again).
 */
export type BatchWrite =
  | {
      readonly op: 'set';
      readonly key: string;
      readonly raw: unknown;
      readonly ttl?: number;
      readonly tags?: readonly string[];
    }
  | { readonly op: 'delete'; readonly key: string }
  /** Adds `by` to the counter at `key`; `ttl` applies only when this creates it (as `incr`). */
  | { readonly op: 'incr'; readonly key: string; readonly by: number; readonly ttl?: number }
  | { readonly op: 'expire'; readonly key: string; readonly ttl: number };

/**
 * Applies writes one by one through the ordinary backend commands: what a commit does on a backend without an
 * atomic {@link Backend.commit} (Redis Cluster across slots, a third-party backend). Not atomic: should the
 * process die midway, the writes before that point are applied and the rest are not.
 */
export async function applyInOrder(backend: Backend, writes: readonly BatchWrite[]): Promise<void> {
  for (const write of writes) {
    switch (write.op) {
      case 'set':
        if (write.tags?.length) await backend.setTagged(write.key, write.raw, write.tags, { ttl: write.ttl });
        else await backend.set(write.key, write.raw, { ttl: write.ttl });
        break;
      case 'delete':
        await backend.delete(write.key);
        break;
      case 'incr':
        await backend.run(incrPrimitive, write.key, write.by, write.ttl);
        break;
      case 'expire':
        await backend.expire(write.key, write.ttl);
        break;
    }
  }
}
