/**
 * One Jest file for the backend conformance and contract suites on Redis Cluster, and for invalidation, tag indexes
 * and protection state (which run on mem://, Redis and Cluster). Each Jest file loads Nest, ioredis and lib/ afresh
 * (about 1 s of CPU), and each Jest worker that runs a cluster file starts a cluster of its own, so these suites share
 * one load. One of them alone: `npx jest test/backends/cluster.e2e-spec.ts -t '<describe name>'`.
 */
import './conformance-cluster.e2e.js';
import './contract-cluster.e2e.js';
import '../invalidate/invalidate.e2e.js';
import '../invalidate/tag-index-lifetime.e2e.js';
import '../protect/concurrency.e2e.js';
import '../protect/namespace.e2e.js';
import './cluster-frozen-node.e2e.js';
import './cluster-redirects.e2e.js';
