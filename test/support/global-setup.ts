/**
 * Jest global setup (projects `redis`, `multi-process` and `cluster` of jest.config.js; the `unit` project has none,
 * so `jest lib/keys` starts nothing): decides which Redis the e2e suites use.
 *
 * Discovery rule (also in the README):
 * 1. `REDIS_URL` if set: one Redis shared by every worker, so jest.config.js runs one worker (`--runInBand`);
 * 2. else one `redis-server` from PATH per Jest worker, each on a free loopback port (no persistence), stopped in
 *    global teardown: test files hard-code database numbers and flush them, so workers never share a server;
 * 3. else `redis://127.0.0.1:6379` if it answers PING (one worker, as in 1).
 * When none is found, Redis suites are skipped with the reason printed once, unless `CI=true`, which fails the run.
 * A shared Redis (1 or 3) with more than one worker (`-w 2`) fails the run with the fix in the message.
 *
 * The Redis Cluster (3 masters on free loopback ports, needs `redis-server` and `redis-cli` on PATH; same skip/fail
 * rule) is started lazily, one per worker, only when a file of the `cluster` project asks for it: global setup
 * starts a small loopback HTTP "cluster broker" and `test/support/cluster-worker-setup.ts` (a `setupFiles` entry of
 * that project) asks it for the cluster of its worker. Teardown stops everything that was started.
 *
 * Results reach the test files through environment variables (see {@link ENV}); test files read them through
 * `test/support/redis.ts`. This file has no relative imports on purpose: Jest loads it outside its module
 * registry, where the `.js` -> `.ts` mapping does not apply. `redis.ts` imports the process helpers from here.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const ENV = {
  /** Space-separated single-Redis URLs, one per Jest worker (or one shared by all). */
  redisUrls: 'CASHEWS_TEST_REDIS_URLS',
  redisSkip: 'CASHEWS_TEST_SKIP_REASON',
  /** Set per test file by cluster-worker-setup.ts: the cluster of this worker. */
  clusterUrl: 'CASHEWS_TEST_CLUSTER_URL',
  /** `http://127.0.0.1:port` of the cluster broker (see the file comment). */
  clusterBroker: 'CASHEWS_TEST_CLUSTER_BROKER',
  clusterSkip: 'CASHEWS_TEST_CLUSTER_SKIP_REASON',
  serverBin: 'CASHEWS_TEST_REDIS_SERVER',
  serverSkip: 'CASHEWS_TEST_SERVER_SKIP_REASON',
  /** A temporary directory of this run, removed by teardown: what test files share, e.g. the build of lib/ for
   * child processes (test/multiprocess/processes.ts). */
  runDir: 'CASHEWS_TEST_RUN_DIR',
} as const;

const LOOPBACK = '127.0.0.1';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Absolute path of an executable found on PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, LOOPBACK, () => server.close(() => resolve(true)));
  });
}

/**
 * A free loopback port. With `clusterBus`, `port + 10000` (the Redis Cluster bus port) is free too,
 * so the port is drawn from 20000-50000.
 */
export async function freePort(options: { clusterBus?: boolean } = {}): Promise<number> {
  if (!options.clusterBus) {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, LOOPBACK, () => {
        const address = server.address();
        const port = typeof address === 'object' && address ? address.port : 0;
        server.close(() => (port ? resolve(port) : reject(new Error('could not read the allocated port'))));
      });
    });
  }
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if ((await portIsFree(port)) && (await portIsFree(port + 10000))) return port;
  }
  throw new Error('no free port pair (port, port+10000) found on 127.0.0.1 after 200 attempts');
}

function encodeCommand(args: readonly string[]): string {
  return `*${args.length}\r\n` + args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('');
}

/**
 * Sends one command over a fresh TCP connection and returns a simple-string, integer or bulk-string reply.
 * Bounded by `timeoutMs`; rejects on an error reply, a refused connection or the timeout.
 */
export function rawCommand(port: number, args: readonly string[], timeoutMs = 1000, host = LOOPBACK): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    let settled = false;
    const socket = createConnection({ host, port });
    const finish = (error: Error | undefined, value?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(value ?? '');
    };
    const timer = setTimeout(
      () => finish(new Error(`no reply from ${host}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.setEncoding('utf8');
    socket.once('error', (error) => finish(error));
    socket.once('connect', () => socket.write(encodeCommand(args)));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const lineEnd = buffer.indexOf('\r\n');
      if (lineEnd < 0) return;
      const head = buffer.slice(1, lineEnd);
      switch (buffer[0]) {
        case '+':
        case ':':
          return finish(undefined, head);
        case '-':
          return finish(new Error(head));
        case '$': {
          const length = Number(head);
          if (length < 0) return finish(undefined, '');
          const body = Buffer.from(buffer.slice(lineEnd + 2));
          if (body.length >= length + 2) finish(undefined, body.subarray(0, length).toString('utf8'));
          return;
        }
        default:
          return finish(new Error(`unexpected reply from ${host}:${port}: ${JSON.stringify(buffer.slice(0, 40))}`));
      }
    });
  });
}

export async function answersPing(port: number, host = LOOPBACK, timeoutMs = 500): Promise<boolean> {
  try {
    return (await rawCommand(port, ['PING'], timeoutMs, host)) === 'PONG';
  } catch {
    return false;
  }
}

/** A `redis-server` child process on a loopback port. */
export interface RedisServerHandle {
  readonly port: number;
  readonly url: string;
  readonly pid: number | undefined;
  /** SIGTERM (SIGKILL after 3 s); resolves when the process has exited. Idempotent. */
  stop(): Promise<void>;
  /** SIGSTOP: the port keeps accepting connections but nothing answers. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /**
   * Stops the process (if running) and starts a new one on the same port; resolves when it answers PING.
   * Also works after stop() (the "server came back" case); call stop() again afterwards.
   */
  restart(): Promise<void>;
}

export interface StartRedisOptions {
  /** Path of the redis-server binary (default: found on PATH). */
  bin?: string;
  /** Fixed port; default a free one (retried with a new port when the start fails). */
  port?: number;
  /** Working directory for nodes.conf and the log; default a new temp dir removed by stop(). */
  dir?: string;
  /** Extra arguments, e.g. cluster flags. */
  extraArgs?: (port: number, dir: string) => string[];
  /**
   * Writes a config file and answers its path, passed first (before the other arguments). Sentinel needs one: it
   * rewrites it with what it learns, and refuses to start without it.
   */
  configFile?: (port: number, dir: string) => string;
}

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Last resort: never leave a redis-server behind when the Node process exits (crash, Ctrl-C, failed setup). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of children) {
      try {
        if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
          process.kill(child.pid, 'SIGKILL');
        }
      } catch {
        // already gone
      }
    }
  });
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    if (!(await waitForExit(child, 3000))) {
      child.kill('SIGKILL');
      await waitForExit(child, 3000);
    }
  }
  children.delete(child);
}

function logTail(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8').split('\n').slice(-8).join('\n');
  } catch {
    return '(no log)';
  }
}

async function spawnServer(
  bin: string,
  port: number,
  dir: string,
  extraArgs: string[],
  configFile?: string,
): Promise<ChildProcess> {
  installExitHook();
  const logFile = join(dir, `redis-${port}.log`);
  const args = [
    ...(configFile ? [configFile] : []),
    '--port',
    String(port),
    '--bind',
    LOOPBACK,
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--logfile',
    logFile,
    '--daemonize',
    'no',
    ...extraArgs,
  ];
  const child = spawn(bin, args, { stdio: 'ignore' });
  children.add(child);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (await answersPing(port, LOOPBACK, 300)) return child;
    const failed = await Promise.race([spawnError, sleep(50).then(() => undefined)]);
    if (failed) {
      children.delete(child);
      throw new Error(`could not spawn ${bin}: ${failed.message}`);
    }
  }
  await killChild(child);
  throw new Error(`redis-server on port ${port} did not answer PING within ~5 s. Log tail:\n${logTail(logFile)}`);
}

/** Starts a throw-away `redis-server` on loopback with persistence off. */
export async function startRedisServer(options: StartRedisOptions = {}): Promise<RedisServerHandle> {
  const bin = options.bin ?? process.env[ENV.serverBin] ?? findOnPath('redis-server');
  if (!bin) throw new Error('redis-server not found on PATH');
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'cashews-redis-'));
  const extra = (port: number): string[] => options.extraArgs?.(port, dir) ?? [];
  const config = (port: number): string | undefined => options.configFile?.(port, dir);

  let port = options.port ?? 0;
  let child: ChildProcess | undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt < (options.port ? 1 : 3) && !child; attempt++) {
    if (!options.port) port = await freePort({ clusterBus: true });
    try {
      child = await spawnServer(bin, port, dir, extra(port), config(port));
    } catch (error) {
      lastError = error;
    }
  }
  if (!child) {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  let current: ChildProcess | undefined = child;
  const handle: RedisServerHandle = {
    port,
    url: `redis://${LOOPBACK}:${port}`,
    get pid() {
      return current?.pid;
    },
    async stop() {
      if (current) await killChild(current);
      current = undefined;
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
    pause() {
      current?.kill('SIGSTOP');
    },
    resume() {
      current?.kill('SIGCONT');
    },
    async restart() {
      if (current) await killChild(current);
      current = undefined;
      mkdirSync(dir, { recursive: true });
      current = await spawnServer(bin, port, dir, extra(port), config(port));
    },
  };
  return handle;
}

function execFileBounded(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

export interface ClusterHandle {
  readonly ports: number[];
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts 3 cluster-enabled masters on free loopback ports, joins them, and waits for `cluster_state:ok`. */
export async function startRedisCluster(serverBin: string, cliBin: string): Promise<ClusterHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'cashews-cluster-'));
  const servers: RedisServerHandle[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 3; i++) {
      servers.push(
        await startRedisServer({
          bin: serverBin,
          dir,
          extraArgs: (port, workDir) => [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(workDir, `nodes-${port}.conf`),
            '--cluster-node-timeout',
            '5000',
          ],
        }),
      );
    }
    const ports = servers.map((server) => server.port);
    await execFileBounded(
      cliBin,
      [
        '--cluster',
        'create',
        ...ports.map((port) => `${LOOPBACK}:${port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      30_000,
    );
    const deadline = Date.now() + 20_000;
    for (;;) {
      const infos = await Promise.all(
        ports.map((port) => rawCommand(port, ['CLUSTER', 'INFO'], 1000).catch((error: Error) => error.message)),
      );
      if (infos.every((info) => info.includes('cluster_state:ok') && info.includes('cluster_known_nodes:3'))) break;
      if (Date.now() > deadline) throw new Error(`cluster did not reach cluster_state:ok within 20 s:\n${infos[0]}`);
      await sleep(100);
    }
    return { ports, url: `redis+cluster://${ports.map((port) => `${LOOPBACK}:${port}`).join(',')}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** What global teardown must stop; kept on globalThis because setup and teardown share only the global object. */
export interface GlobalRedisState {
  singles?: RedisServerHandle[];
  /** Clusters by Jest worker id, started on demand by the broker. */
  clusters?: Map<string, Promise<ClusterHandle>>;
  broker?: HttpServer;
  /** The run's temporary directory ({@link ENV}.runDir). */
  runDir?: string;
  /** Stops all of the above; called by global teardown (which has no imports, see the file comment). */
  stop?: () => Promise<void>;
}

export const STATE_KEY = '__cashewsTestRedis';

type GlobalWithState = typeof globalThis & { [STATE_KEY]?: GlobalRedisState };

export function globalState(): GlobalRedisState {
  const holder = globalThis as GlobalWithState;
  holder[STATE_KEY] ??= {};
  return holder[STATE_KEY];
}

async function stopAll(state: GlobalRedisState): Promise<void> {
  const broker = state.broker;
  state.broker = undefined;
  if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
  const clusters = [...(state.clusters?.values() ?? [])];
  state.clusters = undefined;
  const singles = state.singles ?? [];
  state.singles = undefined;
  if (state.runDir) rmSync(state.runDir, { recursive: true, force: true });
  state.runDir = undefined;
  const results = await Promise.allSettled([
    ...clusters.map(async (cluster) => (await cluster.catch(() => undefined))?.stop()),
    ...singles.map((server) => server.stop()),
  ]);
  const failed = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed.length > 0) throw new Error(`could not stop Redis: ${failed.map((r) => String(r.reason)).join('; ')}`);
}

/**
 * The loopback HTTP server that starts one cluster per Jest worker on its first `GET /cluster/<JEST_WORKER_ID>`
 * (200 + the `redis+cluster://` URL; 500 + the error). Workers ask for their own id only, so two files never share
 * a cluster at the same time (they flush it).
 */
function startClusterBroker(state: GlobalRedisState, serverBin: string, cliBin: string): Promise<string> {
  const clusters = (state.clusters ??= new Map<string, Promise<ClusterHandle>>());
  const server = createHttpServer((request, response) => {
    const worker = /^\/cluster\/(\d+)$/.exec(request.url ?? '')?.[1];
    if (!worker) {
      response.writeHead(404).end('expected GET /cluster/<JEST_WORKER_ID>');
      return;
    }
    let cluster = clusters.get(worker);
    if (!cluster) {
      cluster = startRedisCluster(serverBin, cliBin);
      clusters.set(worker, cluster);
    }
    cluster.then(
      (handle) => response.writeHead(200).end(handle.url),
      (error: unknown) => {
        clusters.delete(worker);
        response.writeHead(500).end(error instanceof Error ? error.message : String(error));
      },
    );
  });
  state.broker = server;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      if (typeof address === 'object' && address) resolve(`http://${LOOPBACK}:${address.port}`);
      else reject(new Error('could not read the cluster broker port'));
    });
  });
}

function sharedRedis(source: string, url: string, workers: number): string {
  if (workers > 1) {
    throw new Error(
      `${source} (${url.replace(/\/\/[^@/]*@/, '//***@')}) is one Redis shared by all ${workers} Jest workers, ` +
        'but the test files flush their databases: run with --runInBand (-w 1), or unset REDIS_URL and put ' +
        'redis-server on PATH so that global setup starts a private server per worker',
    );
  }
  return url;
}

function unavailable(reason: string, failures: string[]): void {
  failures.push(reason);
}

export default async function globalSetup(globalConfig?: { maxWorkers?: number }): Promise<void> {
  const ci = process.env.CI === 'true';
  const state = globalState();
  state.stop = () => stopAll(state);
  const workers = Math.max(1, globalConfig?.maxWorkers ?? 1);
  const failures: string[] = [];
  const serverBin = findOnPath('redis-server');
  const cliBin = findOnPath('redis-cli');

  for (const key of Object.values(ENV)) delete process.env[key];
  state.runDir = mkdtempSync(join(tmpdir(), 'cashews-test-run-'));
  process.env[ENV.runDir] = state.runDir;
  if (serverBin) process.env[ENV.serverBin] = serverBin;
  else process.env[ENV.serverSkip] = 'Redis fault suites skipped: no redis-server on PATH';

  try {
    // 1. Single Redis: one per worker unless REDIS_URL names one.
    if (process.env.REDIS_URL) {
      process.env[ENV.redisUrls] = sharedRedis('REDIS_URL', process.env.REDIS_URL, workers);
    } else if (serverBin) {
      state.singles = [];
      const started = await Promise.allSettled(
        Array.from({ length: workers }, () => startRedisServer({ bin: serverBin })),
      );
      for (const result of started) if (result.status === 'fulfilled') state.singles.push(result.value);
      const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw failed.reason;
      process.env[ENV.redisUrls] = state.singles.map((server) => server.url).join(' ');
    } else if (await answersPing(6379)) {
      process.env[ENV.redisUrls] = sharedRedis('redis://127.0.0.1:6379', `redis://${LOOPBACK}:6379`, workers);
    } else {
      const reason = 'Redis suites skipped: no REDIS_URL, no redis-server on PATH, nothing on 127.0.0.1:6379';
      process.env[ENV.redisSkip] = reason;
      unavailable(reason, failures);
    }

    // 2. Cluster broker (clusters start on demand, one per worker).
    if (serverBin && cliBin) {
      process.env[ENV.clusterBroker] = await startClusterBroker(state, serverBin, cliBin);
    } else {
      const missing = [serverBin ? '' : 'redis-server', cliBin ? '' : 'redis-cli'].filter(Boolean).join(' and ');
      const reason = `Redis Cluster suites skipped: no ${missing} on PATH to start a local cluster`;
      process.env[ENV.clusterSkip] = reason;
      unavailable(reason, failures);
    }
  } catch (error) {
    await stopAll(state).catch(() => undefined);
    throw error;
  }

  if (failures.length > 0) {
    if (ci) {
      await stopAll(state);
      throw new Error(`CI=true and Redis is required:\n  ${failures.join('\n  ')}`);
    }
    process.stderr.write(`\n[cashews tests] ${failures.join('\n[cashews tests] ')}\n`);
  }
}
