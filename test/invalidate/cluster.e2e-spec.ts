/**
 * One Jest file for invalidation, tag indexes and protection state on Redis Cluster. Each Jest file loads Nest,
 * ioredis and lib/ afresh (about 1.5 s of CPU on this project's machines), so these suites share one load. One of
 * them alone: `npx jest test/invalidate/cluster.e2e-spec.ts -t '<describe name>'`.
 */
import './invalidate.e2e.js';
import './tag-index-lifetime.e2e.js';
import '../protect/concurrency.e2e.js';
import '../protect/namespace.e2e.js';
