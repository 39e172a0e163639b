/**
 * One Jest file for @Failover and stacked storing decorators. Each Jest file loads Nest, ioredis and lib/ afresh
 * (about 1.5 s of CPU on this project's machines), so these suites share one load. One of them alone: `npx jest
 * test/strategies/failover-and-stacking.e2e-spec.ts -t '<describe name>'`.
 */
import './failover.e2e.js';
import './stacking.e2e.js';
import './stacking-pairs.e2e.js';
