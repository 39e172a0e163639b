import type { Cluster, Redis } from 'ioredis';

/** ioredis's auto-pipelining state (private fields): pipelines queued (not written yet) and running (written). */
interface AutoPipelineState {
  _autoPipelines?: { size: number };
  _runningAutoPipelines?: { size: number };
}

/**
 * Resolves once every command queued in ioredis's auto-pipeline for `key`'s connection before this call has been
 * answered, so that a command written to the socket directly afterwards (a `MULTI`, which ioredis never
 * auto-pipelines) lands behind them as it was issued behind them. `undefined` when nothing is queued or running there
 * (the usual case: no round trip). With an ioredis that has no such fields, it always waits: slower, never out of
 * order.
 *
 * How: an `EXISTS key` through the auto-pipeline. It is queued behind what waits for the same connection (on Cluster,
 * the node of `key`'s slot) and answered after it. Its failure is not the caller's: the direct command that follows
 * fails on its own when the connection is gone.
 */
export function autoPipelineTurn(client: Redis | Cluster, key: string): Promise<void> | undefined {
  const state = client as unknown as AutoPipelineState;
  if (state._autoPipelines?.size === 0 && state._runningAutoPipelines?.size === 0) return undefined;
  return client.exists(key).then(
    () => undefined,
    () => undefined,
  );
}
