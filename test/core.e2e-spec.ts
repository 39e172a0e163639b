/**
 * One Jest file for the module and its wiring. Each Jest file loads Nest, ioredis and lib/ afresh (about 1.5 s of
 * CPU on this project's machines), so these suites share one load. One of them alone: `npx jest
 * test/core.e2e-spec.ts -t '<describe name>'`.
 */
import './bootstrap-wiring.e2e.js';
import './incr-by.e2e.js';
import './layers.e2e.js';
import './module-state.e2e.js';
import './module.e2e.js';
import './secrets.e2e.js';
