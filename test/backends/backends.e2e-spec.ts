/**
 * One Jest file for the backend conformance suite on mem and Redis, and the chaos backend. Each Jest file loads
 * Nest, ioredis and lib/ afresh (about 1.5 s of CPU on this project's machines), so these suites share one load. One
 * of them alone: `npx jest test/backends/backends.e2e-spec.ts -t '<describe name>'`.
 */
import './conformance.e2e.js';
import './conformance-redis.e2e.js';
import './chaos.e2e.js';
import './read-batch.e2e.js';
import './coalesced-calls.e2e.js';
