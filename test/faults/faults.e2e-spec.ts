/**
 * One Jest file for Redis faults. Each Jest file loads Nest, ioredis and lib/ afresh (about 1.5 s of CPU on this
 * project's machines), so these suites share one load. One of them alone: `npx jest test/faults/faults.e2e-spec.ts
 * -t '<describe name>'`.
 */
import './at-most-once.e2e.js';
import './database.e2e.js';
import './decorated-traffic.e2e.js';
import './server-down.e2e.js';
import './ttl-read-failure.e2e.js';
