/**
 * One Jest file for codecs. Each Jest file loads Nest, ioredis and lib/ afresh (about 1.5 s of CPU on this project's
 * machines), so these suites share one load. One of them alone: `npx jest test/codec/codec.e2e-spec.ts -t '<describe
 * name>'`.
 */
import './hostile-values.e2e.js';
import './json-and-compression.e2e.js';
