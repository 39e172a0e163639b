/**
 * One Jest file for @Cache and its timeouts. Each Jest file loads Nest, ioredis and lib/ afresh (about 1.5 s of CPU
 * on this project's machines), so these suites share one load. One of them alone: `npx jest test/strategies/cache-
 * and-timeouts.e2e-spec.ts -t '<describe name>'`.
 */
import './cache.e2e.js';
import './cache-timeouts.e2e.js';
