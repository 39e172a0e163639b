/**
 * One Jest file for the backend conformance and contract suites on Redis Cluster. Each Jest file loads Nest, ioredis
 * and lib/ afresh (about 1.5 s of CPU on this project's machines), so these suites share one load. One of them
 * alone: `npx jest test/backends/cluster.e2e-spec.ts -t '<describe name>'`.
 */
import './conformance-cluster.e2e.js';
import './contract-cluster.e2e.js';
