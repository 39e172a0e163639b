import type { Backend } from '../backends/backend.interface.js';
import type { BatchWrite } from '../backends/batch-write.js';
import { incrPrimitive } from '../primitives/incr.primitive.js';

/**
 * Applies writes one by one through the ordinary backend commands: what a commit does on a backend without an
 * atomic {@link Backend.commit} (Redis Cluster across slots, a third-party backend). Not atomic: should the
 * process die midway, the writes before that point are applied and the rest are not.
 */
export async function applyInOrder(backend: Backend, writes: readonly BatchWrite[]): Promise<void> {
  // As in Redis's EXEC, a write that fails (an increment of a value that is no integer) fails alone: the others are
  // applied, and the first failure is thrown at the end.
  let failure: { error: unknown } | undefined;
  for (const write of writes) {
    try {
      await applyOne(backend, write);
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;
}

async function applyOne(backend: Backend, write: BatchWrite): Promise<void> {
  switch (write.op) {
    case 'set':
      if (write.tags?.length) {
        await backend.setTagged(write.key, write.raw, write.tags, { ttl: write.ttl, exist: write.exist });
      } else await backend.set(write.key, write.raw, { ttl: write.ttl, exist: write.exist });
      return;
    case 'delete':
      await backend.delete(write.key);
      return;
    case 'incr':
      await backend.run(incrPrimitive, write.key, write.by, write.ttl);
      return;
    case 'expire':
      await backend.expire(write.key, write.ttl);
  }
}
