/**
 * `setupFiles` of the Jest `cluster` project: before each test file, asks global setup's cluster broker for the
 * private cluster of this worker (started on the first request, reused by the worker's later files), so
 * `clusterUrl()` in the file names it. See global-setup.ts.
 */
import { acquireWorkerCluster } from './redis.js';

await acquireWorkerCluster();
