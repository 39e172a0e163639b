/**
 * One Jest file for detection and headers. Each Jest file loads Nest, ioredis and lib/ afresh (about 1.5 s of CPU on
 * this project's machines), so these suites share one load. One of them alone: `npx jest
 * test/detect/detection.e2e-spec.ts -t '<describe name>'`.
 */
import './detect.e2e.js';
import './headers.e2e.js';
import './remaining-ttl.e2e.js';
