/**
 * The backend conformance suite (test/support/backend-conformance.ts) on every backend, directly (no CacheService):
 * the in-process ones: memory, the prefix router over memory, and the chaos backend (latency only) over memory.
 * Redis-backed runs: conformance-redis.e2e-spec.ts and conformance-redis-composite.e2e-spec.ts; Cluster:
 * conformance-cluster.e2e-spec.ts. One file per group so that Jest runs them in parallel workers.
 */
import { ChaosBackend } from '../../lib/backends/chaos.backend.js';
import { MemoryBackend } from '../../lib/backends/memory.backend.js';
import { PrefixRouterBackend } from '../../lib/backends/prefix-router.backend.js';
import { backendConformance } from '../support/backend-conformance.js';

/** Latency the chaos backend adds to every command: enough to reorder concurrent calls. */
const LATENCY: [number, number] = [0, 5];

/**
 * The default size of mem://: well above the most keys one test writes (1,200), since each test has fresh backends.
 * (A size of 100,000 cost ~20 ms of lru-cache allocation and clearing per backend, seconds over the suite.)
 */
const memory = (): MemoryBackend => new MemoryBackend({ size: 10_000, checkInterval: 0 });

describe('in-process backends', () => {
  backendConformance('memory', memory, { fakeTimers: true });
  backendConformance(
    'prefix router: memory, conf: to memory',
    () => new PrefixRouterBackend(memory(), [{ prefix: 'conf:', backend: memory() }]),
    { fakeTimers: true },
  );
  backendConformance(
    'prefix router: memory, keys on the main backend',
    () => new PrefixRouterBackend(memory(), [{ prefix: 'conf:', backend: memory() }]),
    { fakeTimers: true, keyPrefix: 'main:' },
  );
  backendConformance('chaos (latency only) over memory', () => new ChaosBackend(memory(), { latency: LATENCY }));
});
