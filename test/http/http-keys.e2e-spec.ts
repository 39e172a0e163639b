/**
 * One Jest file for HTTP: key templates, strategies, the route interceptor, RPC and GraphQL contexts. Each Jest file
 * loads Nest, ioredis and lib/ afresh (about 1.5 s of CPU on this project's machines), so these suites share one
 * load. One of them alone: `npx jest test/http/http-keys.e2e-spec.ts -t '<describe name>'`.
 */
import './key-templates.e2e.js';
import './route-interceptor.e2e.js';
import './rpc-graphql-context.e2e.js';
import './strategies.e2e.js';
