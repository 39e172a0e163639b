/**
 * One Jest file for the sample app. Each Jest file loads Nest, ioredis and lib/ afresh (about 1.5 s of CPU on this
 * project's machines), so these suites share one load. One of them alone: `npx jest test/sample-app/sample-
 * app.e2e-spec.ts -t '<describe name>'`.
 */
import './tour.e2e.js';
import './reviews.e2e.js';
