/**
 * One Jest file for the storing strategies and their stacking. Each Jest file loads Nest, ioredis and lib/ afresh
 * (about 1.5 s of CPU on this project's machines), so these suites share one load. One of them alone: `npx jest
 * test/strategies/storing.e2e-spec.ts -t '<describe name>'`.
 */
import './cache.e2e.js';
import './early.e2e.js';
import './failover.e2e.js';
import './hit-cache.e2e.js';
import './soft.e2e.js';
import './stacking.e2e.js';
import './stacking-pairs.e2e.js';
import './cache-timeouts.e2e.js';
