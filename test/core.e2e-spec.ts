/**
 * One Jest file for the module and its wiring, class-level caching, versioned keys, stats, metrics, the stats page
 * and tracing. Each Jest file loads Nest, ioredis and lib/ afresh (about 1.5 s of CPU on this project's machines),
 * so these suites share one load. One of them alone: `npx jest test/core.e2e-spec.ts -t '<describe name>'`.
 */
import './bootstrap-wiring.e2e.js';
import './incr-by.e2e.js';
import './lazy-modules.e2e.js';
import './layers.e2e.js';
import './module-state.e2e.js';
import './module.e2e.js';
import './secrets.e2e.js';
import './decorators/class-cache.e2e.js';
import './decorators/bound-reference.e2e.js';
import './invalidate/versioning.e2e.js';
import './stats/dashboard.e2e.js';
import './stats/metrics.e2e.js';
import './stats/stats.e2e.js';
import './stats/tracing.e2e.js';
