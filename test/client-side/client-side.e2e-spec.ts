/**
 * One Jest file for client-side caching. Each Jest file loads Nest, ioredis and lib/ afresh (about 1.5 s of CPU on
 * this project's machines), so these suites share one load. One of them alone: `npx jest test/client-side/client-
 * side.e2e-spec.ts -t '<describe name>'`.
 */
import './coherence.e2e.js';
import './contract.e2e.js';
import './stale-bound.e2e.js';
