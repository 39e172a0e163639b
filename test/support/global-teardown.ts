/**
 * Jest global teardown: stops the broker, the per-worker clusters and the per-worker redis-servers that global setup
 * started (if any) and removes their temp dirs and the run's temporary directory, through the `stop` that setup left
 * in the shared state. Never touches a Redis it did not start. No relative imports: see global-setup.ts.
 */
interface GlobalRedisState {
  stop?: () => Promise<void>;
}

type GlobalWithState = typeof globalThis & { __cashewsTestRedis?: GlobalRedisState };

export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as GlobalWithState;
  const state = holder.__cashewsTestRedis;
  holder.__cashewsTestRedis = undefined;
  try {
    await state?.stop?.();
  } catch (error) {
    throw new Error(`global teardown could not stop Redis: ${error instanceof Error ? error.message : String(error)}`);
  }
}
