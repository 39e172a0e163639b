/**
 * One Jest file for the multi-process suites that start few processes: @Adaptive fleet sharing, bootstrap under tsx,
 * protection state and transactions across processes. Each Jest file loads Nest, ioredis and lib/ afresh (about 1 s
 * of CPU), so these suites share one load; cross-process.e2e-spec.ts, the largest, runs beside them. One of them
 * alone: `npx jest test/multiprocess/multiprocess.e2e-spec.ts -t '<describe name>'`.
 */
import './adaptive-fleet.e2e.js';
import './tsx-bootstrap.e2e.js';
import '../protect/multiprocess.e2e.js';
import '../transactions/multiprocess.e2e.js';
