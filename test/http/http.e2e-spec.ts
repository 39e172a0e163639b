/**
 * One Jest file for HTTP: caching, errors, handler names, detection and its headers, protective decorators on routes,
 * key templates, strategies, the route interceptor, RPC and GraphQL contexts. Each Jest file loads Nest, ioredis and
 * lib/ afresh (about 1 s of CPU), so these suites share one load. One of them alone: `npx jest
 * test/http/http.e2e-spec.ts -t '<describe name>'`.
 */
import './cache-basics.e2e.js';
import './cached-errors.e2e.js';
import './handler-names.e2e.js';
import '../detect/detect.e2e.js';
import '../detect/headers.e2e.js';
import '../detect/lazy-headers.e2e.js';
import '../detect/remaining-ttl.e2e.js';
import '../detect/route-scope.e2e.js';
import '../protect/http.e2e.js';
import './key-templates.e2e.js';
import './direct-routes.e2e.js';
import './route-interceptor.e2e.js';
import './rpc-graphql-context.e2e.js';
import './strategies.e2e.js';
