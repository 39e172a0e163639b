import type { Backend } from '../backends/backend.interface.js';
import type { BatchWrite } from '../backends/batch-write.js';
import { incrPrimitive } from '../primitives/incr.primitive.js';

/**
 * Applies writes one by one through the ordinary backend commands: what a commit does on a backend without an
 * atomic {@link Backend.commit} (Redis Cluster across slots, a third-party backend). Not atomic: should the
 * process die midway, the writes before that point are applied and the rest are not.
 */
export async function applyInOrder(backend: Backend, writes: readonly BatchWrite[]): Promise<void> {
  for (const write of writes) {
    switch (write.op) {
      case 'set':
        if (write.tags?.length) {
          await backend.setTagged(write.key, write.raw, write.tags, { ttl: write.ttl, exist: write.exist });
        } else await backend.set(write.key, write.raw, { ttl: write.ttl, exist: write.exist });
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
