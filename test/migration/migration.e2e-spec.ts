/**
 * One Jest file for migration. Each Jest file loads Nest, ioredis and lib/ afresh (about 1.5 s of CPU on this
 * project's machines), so these suites share one load. One of them alone: `npx jest
 * test/migration/migration.e2e-spec.ts -t '<describe name>'`.
 */
import './cache-manager.e2e.js';
import './default-ttl.e2e.js';
