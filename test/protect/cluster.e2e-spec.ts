/**
 * One Jest file for protection state on Redis Cluster. Each Jest file loads Nest, ioredis and lib/ afresh (about 1.5
 * s of CPU on this project's machines), so these suites share one load. One of them alone: `npx jest
 * test/protect/cluster.e2e-spec.ts -t '<describe name>'`.
 */
import './concurrency.e2e.js';
import './namespace.e2e.js';
