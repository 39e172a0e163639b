/**
 * One Jest file for the testing helpers. Each Jest file loads Nest, ioredis and lib/ afresh (about 1.5 s of CPU on
 * this project's machines), so these suites share one load. One of them alone: `npx jest
 * test/testing/testing.e2e-spec.ts -t '<describe name>'`.
 */
import './runtime-switch.e2e.js';
import './testing-recipes.e2e.js';
