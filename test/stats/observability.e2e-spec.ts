/**
 * One Jest file for stats, metrics, the stats page and tracing. Each Jest file loads Nest, ioredis and lib/ afresh (about 1.5
 * s of CPU on this project's machines), so these suites share one load. One of them alone: `npx jest
 * test/stats/observability.e2e-spec.ts -t '<describe name>'`.
 */
import './dashboard.e2e.js';
import './metrics.e2e.js';
import './stats.e2e.js';
import './tracing.e2e.js';
