/**
 * Jest global teardown: stops the cluster and the redis-server that global setup started (if any) and removes
 * their temp dirs. Never touches a Redis it did not start. No relative imports: see global-setup.ts.
 */
interface Stoppable {
  stop(): Promise<void>;
}

interface GlobalRedisState {
  single?: Stoppable;
  cluster?: Stoppable;
}

type GlobalWithState = typeof globalThis & { __cashewsTestRedis?: GlobalRedisState };

export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as GlobalWithState;
  const state = holder.__cashewsTestRedis;
  if (!state) return;
  const results = await Promise.allSettled([state.cluster?.stop(), state.single?.stop()]);
  holder.__cashewsTestRedis = undefined;
  const failed = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed.length > 0) {
    throw new Error(`global teardown could not stop Redis: ${failed.map((r) => String(r.reason)).join('; ')}`);
  }
}
