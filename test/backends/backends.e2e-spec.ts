/**
 * One Jest file for the backend conformance suites on mem, Redis and composites, custom and chaos backends. Each
 * Jest file loads Nest, ioredis and lib/ afresh (about 1.5 s of CPU on this project's machines), so these suites
 * share one load. One of them alone: `npx jest test/backends/backends.e2e-spec.ts -t '<describe name>'`.
 */
import './chaos.e2e.js';
import './conformance-redis-composite.e2e.js';
import './conformance-redis.e2e.js';
import './read-batch.e2e.js';
import './conformance.e2e.js';
import './custom-backend.e2e.js';
