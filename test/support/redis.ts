/**
 * Test-side view of what global setup found (see global-setup.ts for the discovery rule), plus helpers to start
 * throw-away Redis servers for fault tests and raw ioredis clients for out-of-band reads and writes.
 */
import { get } from 'node:http';
import { Cluster, Redis, type Command } from 'ioredis';
import {
  ENV,
  freePort,
  sleep,
  startRedisServer as startServerProcess,
  type RedisServerHandle,
  type StartRedisOptions,
} from './global-setup.js';

export { freePort, sleep, type RedisServerHandle };

/** Index (0-based) of this Jest worker; 0 outside a worker and with --runInBand. */
function workerIndex(): number {
  const id = Number(process.env.JEST_WORKER_ID);
  return Number.isInteger(id) && id > 0 ? id - 1 : 0;
}

/**
 * The single Redis URL of this Jest worker (global setup starts one private server per worker, or all workers share
 * `REDIS_URL`), optionally pointed at database `db`. Undefined when Redis suites are skipped.
 */
export function redisUrl(db?: number): string | undefined {
  const urls = (process.env[ENV.redisUrls] ?? '').split(' ').filter(Boolean);
  if (urls.length === 0) return undefined;
  if (urls.length > 1 && workerIndex() >= urls.length) {
    throw new Error(
      `Jest worker ${workerIndex() + 1} has no private Redis: global setup started ${urls.length} (maxWorkers)`,
    );
  }
  const url = urls[urls.length === 1 ? 0 : workerIndex()];
  if (db === undefined) return url;
  const parsed = new URL(url);
  parsed.pathname = `/${db}`;
  return parsed.toString();
}

/** Fails loudly: a file whose project has no global setup would otherwise skip its Redis suites in silence. */
function notRun(what: string, why = 'global setup did not run for this test file'): never {
  throw new Error(
    `${what}: ${why}. Start Jest through npm test / jest.config.js, which puts test/**/*.e2e-spec.ts in the ` +
      'redis/multi-process/cluster projects (cluster: the files that mention describeCluster, clusterUrl, ' +
      'clusterNodes, rawCluster or flushCluster) and *.spec.ts in unit, which has no Redis: rename the file to ' +
      '.e2e-spec.ts',
  );
}

/** Called by cluster-worker-setup.ts before each file of the `cluster` project: fetches this worker's cluster. */
export async function acquireWorkerCluster(): Promise<void> {
  const broker = process.env[ENV.clusterBroker];
  if (!broker || process.env[ENV.clusterSkip]) return;
  const worker = String(workerIndex() + 1);
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    get(`${broker}/cluster/${worker}`, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      response.on('error', reject);
    }).once('error', reject);
  });
  if (status !== 200) throw new Error(`could not start the Redis Cluster of Jest worker ${worker}: ${body}`);
  process.env[ENV.clusterUrl] = body;
}

/**
 * `redis+cluster://h1:p1,h2:p2,h3:p3` of this worker's private test cluster (files of the `cluster` project only),
 * or undefined when cluster suites are skipped.
 */
export function clusterUrl(): string | undefined {
  return process.env[ENV.clusterUrl] || undefined;
}

/** Loopback addresses of the cluster masters. */
export function clusterNodes(): { host: string; port: number }[] {
  const url = clusterUrl();
  if (!url) return [];
  const hosts = url.replace(/^redis\+cluster:\/\//, '').split(/[/?]/)[0];
  return hosts.split(',').map((hostPort) => {
    const [host, port] = hostPort.split(':');
    return { host, port: Number(port) };
  });
}

export function redisSkipReason(): string {
  return process.env[ENV.redisSkip] || notRun('Redis suite');
}

export function clusterSkipReason(): string {
  const skip = process.env[ENV.clusterSkip];
  if (skip) return skip;
  if (process.env[ENV.clusterBroker]) {
    return notRun(
      'Redis Cluster suite',
      'this file is outside the cluster project (cluster-worker-setup.ts did not run)',
    );
  }
  return notRun('Redis Cluster suite');
}

export function redisServerSkipReason(): string {
  return process.env[ENV.serverSkip] || notRun('Redis fault suite');
}

/** `describe` when a single Redis is available, else `describe.skip` with the reason in the title. */
export function describeRedis(name: string, fn: () => void): void {
  if (redisUrl()) describe(name, fn);
  else describe.skip(`${name} [${redisSkipReason()}]`, fn);
}

/** `describe` when the test cluster runs, else `describe.skip` with the reason in the title. */
export function describeCluster(name: string, fn: () => void): void {
  if (clusterUrl()) describe(name, fn);
  else describe.skip(`${name} [${clusterSkipReason()}]`, fn);
}

/** `describe` when `redis-server` is on PATH (needed by {@link startRedisServer}), else `describe.skip`. */
export function describeRedisServer(name: string, fn: () => void): void {
  if (process.env[ENV.serverBin]) describe(name, fn);
  else describe.skip(`${name} [${redisServerSkipReason()}]`, fn);
}

/**
 * Starts a private `redis-server` on a free loopback port; `stop()` it in afterEach/afterAll. `extraArgs` is
 * called again on every `restart()`, so a test can restart the server with other settings.
 */
export function startRedisServer(
  options: Pick<StartRedisOptions, 'extraArgs' | 'configFile'> = {},
): Promise<RedisServerHandle> {
  return startServerProcess(options);
}

/** A raw ioredis client that fails fast instead of retrying forever. `quit()` or `disconnect()` it. */
export function rawRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: () => null });
}

/** A raw ioredis cluster client on the test cluster, resolved once it knows the slot map. `disconnect()` it. */
export async function rawCluster(): Promise<Cluster> {
  const cluster = new Cluster(clusterNodes(), {
    redisOptions: { connectTimeout: 2000 },
    clusterRetryStrategy: () => null,
  });
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('raw cluster client not ready within 5 s')), 5000);
    cluster.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  try {
    await ready;
  } catch (error) {
    cluster.disconnect();
    throw error;
  }
  return cluster;
}

/** FLUSHDB on `db` of the single Redis; refuses db 0 so a shared developer server is never wiped. */
export async function flushRedisDb(db: number): Promise<void> {
  if (db === 0) throw new Error('refusing to flush db 0 of the shared Redis');
  const url = redisUrl(db);
  if (!url) return;
  const client = rawRedis(url);
  try {
    await client.flushdb();
  } finally {
    client.disconnect();
  }
}

/** FLUSHALL on every master of the private test cluster (it is ours alone). */
export async function flushCluster(): Promise<void> {
  if (!clusterUrl()) return;
  const cluster = await rawCluster();
  try {
    await Promise.all(cluster.nodes('master').map((node) => node.flushall()));
  } finally {
    cluster.disconnect();
  }
}

/** Polls `check` every `stepMs` until it returns true or `timeoutMs` passes; returns the last result. */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(stepMs);
  }
}

/** Adds query parameters to a cache URL (keeps any already there). */
export function withQuery(url: string, params: Record<string, string>): string {
  const [base, query = ''] = url.split('?', 2);
  const search = new URLSearchParams(query);
  for (const [key, value] of Object.entries(params)) search.set(key, value);
  const text = search.toString();
  return text ? `${base}?${text}` : base;
}

/** Hands every command `client` sends to `seen` before it is sent (what a test counts; the command is unchanged). */
export function watchCommands(client: Redis, seen: (command: Command) => void): void {
  const send = client.sendCommand.bind(client) as (command: Command, ...rest: unknown[]) => unknown;
  client.sendCommand = ((command: Command, ...rest: unknown[]) => {
    seen(command);
    return send(command, ...rest);
  }) as typeof client.sendCommand;
}
