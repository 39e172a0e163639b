/**
 * One Jest file for the command pipeline. Each Jest file loads Nest, ioredis and lib/ afresh (about 1.5 s of CPU on
 * this project's machines), so these suites share one load. One of them alone: `npx jest
 * test/pipeline/pipeline.e2e-spec.ts -t '<describe name>'`.
 */
import './builtin-hooks.e2e.js';
import './command-hooks.e2e.js';
import './invalidate-further.e2e.js';
