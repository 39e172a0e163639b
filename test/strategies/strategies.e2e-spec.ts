/**
 * One Jest file for the other strategies. Each Jest file loads Nest, ioredis and lib/ afresh (about 1.5 s of CPU on
 * this project's machines), so these suites share one load. One of them alone: `npx jest
 * test/strategies/strategies.e2e-spec.ts -t '<describe name>'`.
 */
import './adaptive.e2e.js';
import './adaptive-fleet.e2e.js';
import './bloom.e2e.js';
import './cache-read-path.e2e.js';
import './cached-errors.e2e.js';
import './detect.e2e.js';
import './locked.e2e.js';
import './safe-mode.e2e.js';
import './streams.e2e.js';
