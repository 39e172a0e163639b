/**
 * One Jest file for `redis+sentinel://` against a real Sentinel deployment, and the `wait_replicas=1` failover under
 * traffic. Each Jest file loads Nest, ioredis and lib/ afresh (about 1 s of CPU), so these share one load; the other
 * failover case (failover.e2e-spec.ts, some 20 s of waiting on Sentinel) runs beside them. One of them alone: `npx
 * jest test/sentinel/sentinel.e2e-spec.ts -t '<describe name>'`.
 */
import './sentinel.e2e.js';
import './failover-wait-replicas.e2e.js';
