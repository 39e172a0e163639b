/**
 * One Jest file for HTTP: caching, errors, handler names, detection and its headers, and protective decorators on
 * routes. Each Jest file loads Nest, ioredis and lib/ afresh (about 1.5 s of CPU on this project's machines), so
 * these suites share one load. One of them alone: `npx jest test/http/http.e2e-spec.ts -t '<describe name>'`.
 */
import './cache-basics.e2e.js';
import './cached-errors.e2e.js';
import './handler-names.e2e.js';
import '../detect/detect.e2e.js';
import '../detect/headers.e2e.js';
import '../detect/remaining-ttl.e2e.js';
import '../protect/http.e2e.js';
