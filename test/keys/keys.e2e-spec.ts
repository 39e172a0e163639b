/**
 * One Jest file for keys. Each Jest file loads Nest, ioredis and lib/ afresh (about 1.5 s of CPU on this project's
 * machines), so these suites share one load. One of them alone: `npx jest test/keys/keys.e2e-spec.ts -t '<describe
 * name>'`.
 */
import './collisions.e2e.js';
import './key-context.e2e.js';
import './key-functions.e2e.js';
import './formatters.e2e.js';
import './undefined-placeholder.e2e.js';
