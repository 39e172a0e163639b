/**
 * The backend conformance suite as nestjs-cashews/testing exports it (lib/testing/backend-conformance.ts), on every
 * backend, directly (no CacheService):
 * the in-process ones: memory, the prefix router over memory, and the chaos backend (latency only) over memory.
 * Redis-backed runs: conformance-redis.e2e-spec.ts and conformance-redis-composite.e2e-spec.ts; Cluster:
 * conformance-cluster.e2e-spec.ts. One file per group so that Jest runs them in parallel workers.
 */
import { ChaosBackend } from '../../lib/backends/chaos.backend.js';
import { MemoryBackend } from '../../lib/backends/memory.backend.js';
import { PrefixRouterBackend } from '../../lib/backends/prefix-router.backend.js';
import { runBackendConformance } from '../../lib/testing/index.js';
import { jestFakeTimers, jestTest } from '../support/jest-runner.js';

/** Latency the chaos backend adds to every command: enough to reorder concurrent calls. */
const LATENCY: [number, number] = [0, 5];

/**
 * The default size of mem://: well above the most keys one test writes (1,200), since each test has fresh backends.
 * (A size of 100,000 cost ~20 ms of lru-cache allocation and clearing per backend, seconds over the suite.)
 */
const memory = (): MemoryBackend => new MemoryBackend({ size: 10_000, checkInterval: 0 });

describe('in-process backends', () => {
  runBackendConformance({ name: 'memory', create: memory, test: jestTest, fakeTimers: jestFakeTimers });
  runBackendConformance({
    name: 'prefix router: memory, conf: to memory',
    create: () => new PrefixRouterBackend(memory(), [{ prefix: 'conf:', backend: memory() }]),
    test: jestTest,
    fakeTimers: jestFakeTimers,
  });
  runBackendConformance({
    name: 'prefix router: memory, keys on the main backend',
    create: () => new PrefixRouterBackend(memory(), [{ prefix: 'conf:', backend: memory() }]),
    test: jestTest,
    fakeTimers: jestFakeTimers,
    keyPrefix: 'main:',
  });
  runBackendConformance({
    name: 'chaos (latency only) over memory',
    create: () => new ChaosBackend(memory(), { latency: LATENCY }),
    test: jestTest,
  });
});
