/**
 * A private Sentinel deployment on loopback for the `redis+sentinel://` suites: one master, one replica
 * (`--replicaof`) and one Sentinel (quorum 1, low `down-after-milliseconds` and `failover-timeout`), each a
 * `redis-server` started by {@link startRedisServer} (the Sentinel with `--sentinel` and a config file in its own temp
 * dir, which it rewrites). `stop()` stops all three and removes their dirs. Every wait here is bounded.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pollUntil, rawRedis, startRedisServer, withQuery, type RedisServerHandle } from './redis.js';

export const MASTER_NAME = 'mymaster';
const LOOPBACK = '127.0.0.1';

export interface SentinelDeployment {
  /** The server started as master; after a failover it is the replica. */
  readonly first: RedisServerHandle;
  /** The server started as replica; after a failover it is the master. */
  readonly second: RedisServerHandle;
  readonly sentinel: RedisServerHandle;
  /** `redis+sentinel://127.0.0.1:<sentinel port>/mymaster/<db>`, with `params` as its query. */
  url(db?: number, params?: Record<string, string>): string;
  /** The master's port as the Sentinel names it now. */
  masterPort(): Promise<number>;
  /** `ROLE` of a server: `master` or `slave`. */
  role(server: RedisServerHandle): Promise<string>;
  /**
   * Waits until the Sentinel knows the current master's replica and that replica's link is up (a failover needs
   * one), at most `timeoutMs`.
   */
  ready(timeoutMs?: number): Promise<void>;
  /** `SENTINEL FAILOVER mymaster`; resolves once the Sentinel names the new master (at most `timeoutMs`). */
  failover(timeoutMs?: number): Promise<number>;
  /** Waits until `server` is a replica whose link to the current master is up, at most `timeoutMs`. */
  replicating(server: RedisServerHandle, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function client(port: number): Redis {
  return rawRedis(`redis://${LOOPBACK}:${port}`);
}

async function withClient<T>(port: number, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = client(port);
  redis.on('error', () => undefined);
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

/** Key/value pairs of a Sentinel reply entry (`[k1, v1, k2, v2, ...]`). */
function fields(entry: unknown): Record<string, string> {
  const list = entry as string[];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i]] = list[i + 1];
  return out;
}

async function mustPoll(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  if (!(await pollUntil(check, timeoutMs, 100))) throw new Error(`${what} not reached within ${timeoutMs} ms`);
}

/** Starts master, replica and Sentinel, and waits until a failover is possible. */
export async function startSentinelDeployment(): Promise<SentinelDeployment> {
  const started: RedisServerHandle[] = [];
  const stop = async (): Promise<void> => {
    await Promise.allSettled(started.splice(0).map((server) => server.stop()));
  };
  try {
    const first = await startRedisServer();
    started.push(first);
    const second = await startRedisServer({ extraArgs: () => ['--replicaof', LOOPBACK, String(first.port)] });
    started.push(second);
    const sentinel = await startRedisServer({
      configFile: (_port, dir) => {
        const file = join(dir, 'sentinel.conf');
        writeFileSync(
          file,
          [
            `sentinel monitor ${MASTER_NAME} ${LOOPBACK} ${first.port} 1`,
            `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
            `sentinel failover-timeout ${MASTER_NAME} 5000`,
            '',
          ].join('\n'),
        );
        return file;
      },
      extraArgs: () => ['--sentinel'],
    });
    started.push(sentinel);
    const servers = [first, second];

    const masterPort = (): Promise<number> =>
      withClient(sentinel.port, async (redis) => {
        const reply = (await redis.call('SENTINEL', 'get-master-addr-by-name', MASTER_NAME)) as [string, string];
        return Number(reply[1]);
      });
    const role = (server: RedisServerHandle): Promise<string> =>
      withClient(server.port, async (redis) => String(((await redis.role()) as unknown[])[0]));
    const replicating = (server: RedisServerHandle, timeoutMs = 30_000): Promise<void> =>
      mustPoll(
        `${server.port} replicating`,
        () => withClient(server.port, async (redis) => /master_link_status:up/.test(await redis.info('replication'))),
        timeoutMs,
      );

    const deployment: SentinelDeployment = {
      first,
      second,
      sentinel,
      url: (db = 0, params = {}) =>
        withQuery(`redis+sentinel://${LOOPBACK}:${sentinel.port}/${MASTER_NAME}/${db}`, params),
      masterPort,
      role,
      replicating,
      async ready(timeoutMs = 20_000) {
        const deadline = Date.now() + timeoutMs;
        const master = await masterPort();
        const replica = servers.find((server) => server.port !== master);
        if (!replica) throw new Error(`the Sentinel names an unknown master ${master}`);
        await replicating(replica, timeoutMs);
        await mustPoll(
          'Sentinel knowing a healthy replica',
          () =>
            withClient(sentinel.port, async (redis) => {
              const replicas = ((await redis.call('SENTINEL', 'replicas', MASTER_NAME)) as unknown[]).map(fields);
              return replicas.some(
                (entry) =>
                  Number(entry.port) === replica.port &&
                  entry.flags === 'slave' &&
                  entry['master-link-status'] === 'ok',
              );
            }),
          Math.max(1, deadline - Date.now()),
        );
      },
      async failover(timeoutMs = 15_000) {
        const before = await masterPort();
        await withClient(sentinel.port, (redis) => redis.call('SENTINEL', 'failover', MASTER_NAME));
        let after = before;
        await mustPoll(
          'Sentinel naming a new master',
          async () => {
            after = await masterPort();
            return after !== before;
          },
          timeoutMs,
        );
        return after;
      },
      stop,
    };
    return deployment;
  } catch (error) {
    await stop();
    throw error;
  }
}
