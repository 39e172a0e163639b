/**
 * `nestjs-cashews/testing`: what tests need and applications do not. The backend conformance suite, runnable under
 * any test runner, for a backend of your own (see `registerBackend`); and the helpers that reset the caches of a Nest
 * application between tests (also exported by the main entry, where they were first). Nothing here imports a test
 * runner.
 */
export { runBackendConformance, type BackendConformanceOptions } from './backend-conformance.js';
export type { FakeTimers, TestFunctions } from './test-functions.js';
export { cacheInstances, resetCaches } from './app-caches.js';
