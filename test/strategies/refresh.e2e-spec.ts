/**
 * One Jest file for the refreshing strategies (@Early, @Soft, @HitCache). Each Jest file loads Nest, ioredis and
 * lib/ afresh (about 1.5 s of CPU on this project's machines), so these suites share one load. One of them alone:
 * `npx jest test/strategies/refresh.e2e-spec.ts -t '<describe name>'`.
 */
import './early.e2e.js';
import './soft.e2e.js';
import './hit-cache.e2e.js';
