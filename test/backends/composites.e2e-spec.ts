/**
 * One Jest file for composite and custom backends. Each Jest file loads Nest, ioredis and lib/ afresh (about 1.5 s
 * of CPU on this project's machines), so these suites share one load. One of them alone: `npx jest
 * test/backends/composites.e2e-spec.ts -t '<describe name>'`.
 */
import './conformance-redis-composite.e2e.js';
import './custom-backend.e2e.js';
