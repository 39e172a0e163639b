/**
 * One Jest file for prefix routing. Each Jest file loads Nest, ioredis and lib/ afresh (about 1.5 s of CPU on this
 * project's machines), so these suites share one load. One of them alone: `npx jest test/prefix/prefix.e2e-spec.ts
 * -t '<describe name>'`.
 */
import './contract.e2e.js';
import './routing.e2e.js';
