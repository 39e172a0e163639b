/**
 * Jest global setup: decides which Redis the e2e suites use and starts a private 3-master Redis Cluster.
 *
 * Discovery rule (also in the README):
 * 1. `REDIS_URL` if set;
 * 2. else `redis://127.0.0.1:6379` if it answers PING;
 * 3. else a `redis-server` from PATH on a free loopback port (no persistence), stopped in global teardown.
 * When none is found, Redis suites are skipped with the reason printed once, unless `CI=true`, which fails the run.
 * The cluster (3 masters on free loopback ports) needs `redis-server` and `redis-cli` on PATH; same skip/fail rule.
 *
 * Results reach the test files through environment variables (see {@link ENV}); test files read them through
 * `test/support/redis.ts`. This file has no relative imports on purpose: Jest loads it outside its module
 * registry, where the `.js` -> `.ts` mapping does not apply. `redis.ts` imports the process helpers from here.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const ENV = {
  redisUrl: 'CASHEWS_TEST_REDIS_URL',
  redisSkip: 'CASHEWS_TEST_SKIP_REASON',
  clusterUrl: 'CASHEWS_TEST_CLUSTER_URL',
  clusterSkip: 'CASHEWS_TEST_CLUSTER_SKIP_REASON',
  serverBin: 'CASHEWS_TEST_REDIS_SERVER',
  serverSkip: 'CASHEWS_TEST_SERVER_SKIP_REASON',
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

async function spawnServer(bin: string, port: number, dir: string, extraArgs: string[]): Promise<ChildProcess> {
  installExitHook();
  const logFile = join(dir, `redis-${port}.log`);
  const args = [
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

  let port = options.port ?? 0;
  let child: ChildProcess | undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt < (options.port ? 1 : 3) && !child; attempt++) {
    if (!options.port) port = await freePort({ clusterBus: true });
    try {
      child = await spawnServer(bin, port, dir, extra(port));
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
      current = await spawnServer(bin, port, dir, extra(port));
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
  single?: RedisServerHandle;
  cluster?: ClusterHandle;
}

export const STATE_KEY = '__cashewsTestRedis';

type GlobalWithState = typeof globalThis & { [STATE_KEY]?: GlobalRedisState };

export function globalState(): GlobalRedisState {
  const holder = globalThis as GlobalWithState;
  holder[STATE_KEY] ??= {};
  return holder[STATE_KEY];
}

function unavailable(reason: string, failures: string[]): void {
  failures.push(reason);
}

export default async function globalSetup(): Promise<void> {
  const ci = process.env.CI === 'true';
  const state = globalState();
  const failures: string[] = [];
  const serverBin = findOnPath('redis-server');
  const cliBin = findOnPath('redis-cli');

  for (const key of Object.values(ENV)) delete process.env[key];
  if (serverBin) process.env[ENV.serverBin] = serverBin;
  else process.env[ENV.serverSkip] = 'Redis fault suites skipped: no redis-server on PATH';

  try {
    // 1. Single Redis.
    if (process.env.REDIS_URL) {
      process.env[ENV.redisUrl] = process.env.REDIS_URL;
    } else if (await answersPing(6379)) {
      process.env[ENV.redisUrl] = `redis://${LOOPBACK}:6379`;
    } else if (serverBin) {
      state.single = await startRedisServer({ bin: serverBin });
      process.env[ENV.redisUrl] = state.single.url;
    } else {
      const reason = 'Redis suites skipped: no REDIS_URL, nothing on 127.0.0.1:6379, no redis-server on PATH';
      process.env[ENV.redisSkip] = reason;
      unavailable(reason, failures);
    }

    // 2. Private cluster.
    if (serverBin && cliBin) {
      state.cluster = await startRedisCluster(serverBin, cliBin);
      process.env[ENV.clusterUrl] = state.cluster.url;
    } else {
      const missing = [serverBin ? '' : 'redis-server', cliBin ? '' : 'redis-cli'].filter(Boolean).join(' and ');
      const reason = `Redis Cluster suites skipped: no ${missing} on PATH to start a local cluster`;
      process.env[ENV.clusterSkip] = reason;
      unavailable(reason, failures);
    }
  } catch (error) {
    await globalState().cluster?.stop();
    await globalState().single?.stop();
    throw error;
  }

  if (failures.length > 0) {
    if (ci) {
      await state.cluster?.stop();
      await state.single?.stop();
      throw new Error(`CI=true and Redis is required:\n  ${failures.join('\n  ')}`);
    }
    process.stderr.write(`\n[cashews tests] ${failures.join('\n[cashews tests] ')}\n`);
  }
}
