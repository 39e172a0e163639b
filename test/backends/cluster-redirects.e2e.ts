/**
 * Redis Cluster while slots move and while the cluster is unreachable: a command whose slot moved (MOVED) or is
 * moving (ASK) is redirected, never handed to the caller as a failure, and an unreachable cluster fails each command
 * at once (bounded by command_timeout), not after the client's next connection attempt.
 * Isolation: the private test cluster; the moved slots are moved back after each test, the keys flushed after the file.
 */
import { AddressInfo, createServer } from 'node:net';
import { Cluster, Redis } from 'ioredis';
import { CacheService, createCache, RedisClusterBackend } from '../../lib/index.js';
import { clusterNodes, clusterUrl, describeCluster, flushCluster, withQuery } from '../support/redis.js';

function must(url: string | undefined): string {
  if (!url) throw new Error('Redis URL missing although the suite is not skipped');
  return url;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Master {
  client: Redis;
  id: string;
  host: string;
  port: number;
}

describeCluster('redis cluster: redirects and an unreachable cluster', () => {
  let masters: Master[];

  beforeAll(async () => {
    masters = await Promise.all(
      clusterNodes().map(async ({ host, port }) => {
        const client = new Redis({ host, port, connectTimeout: 2000, retryStrategy: () => null, lazyConnect: true });
        await client.connect();
        return { client, id: (await client.cluster('MYID')) as string, host, port };
      }),
    );
  });

  afterAll(async () => {
    await flushCluster();
    masters.forEach((master) => master.client.disconnect());
  });

  /** The master serving `slot`. */
  async function ownerOf(slot: number): Promise<Master> {
    const ranges = await masters[0].client.cluster('SLOTS');
    const range = ranges.find(([from, to]) => from <= slot && slot <= to);
    const master = masters.find((candidate) => candidate.id === range?.[2]?.[2]);
    if (!master) throw new Error(`no master serves slot ${slot}`);
    return master;
  }

  async function slotOf(key: string): Promise<number> {
    return (await masters[0].client.cluster('KEYSLOT', key)) as number;
  }

  /** Marks `slot` as moving from `from` to `to` (ASK territory) and migrates at most `limit` of its keys. */
  async function startMoving(slot: number, from: Master, to: Master, limit = Infinity): Promise<void> {
    await to.client.cluster('SETSLOT', slot, 'IMPORTING', from.id);
    await from.client.cluster('SETSLOT', slot, 'MIGRATING', to.id);
    const keys = ((await from.client.cluster('GETKEYSINSLOT', slot, 1000)) as string[]).slice(0, limit);
    if (keys.length) await from.client.migrate(to.host, to.port, '', 0, 5000, 'KEYS', ...keys);
  }

  /** Moves `slot` with all its keys from `from` to `to`, and tells every master. */
  async function move(slot: number, from: Master, to: Master): Promise<void> {
    await startMoving(slot, from, to);
    for (const master of [to, from, ...masters.filter((m) => m !== to && m !== from)]) {
      await master.client.cluster('SETSLOT', slot, 'NODE', to.id);
    }
  }

  /** Keys spread over several slots of one master: `count` hash tags, `perTag` keys each. */
  async function keysOnOneMaster(count: number, perTag: number, prefix: string): Promise<string[][]> {
    const owner = await ownerOf(await slotOf(`{${prefix}0}`));
    const groups: string[][] = [];
    for (let i = 0; groups.length < count && i < 1000; i++) {
      const tag = `{${prefix}${i}}`;
      if ((await ownerOf(await slotOf(tag))) !== owner) continue;
      groups.push(Array.from({ length: perTag }, (_, j) => `${tag}:${j}`));
    }
    return groups;
  }

  describe('slots moving between healthy masters', () => {
    let cache: CacheService;
    /** Slots to move back after the test: [slot, where it was]. */
    let moved: Array<[number, Master]>;

    beforeEach(async () => {
      cache = await createCache(withQuery(must(clusterUrl()), { safe: '0' }));
      moved = [];
    });

    afterEach(async () => {
      await cache.close();
      for (const [slot, home] of moved) {
        const now = await ownerOf(slot);
        // Undo a half-done move first (both sides STABLE), then move the slot back with its keys.
        for (const master of masters) await master.client.cluster('SETSLOT', slot, 'STABLE');
        if (now !== home) await move(slot, now, home);
      }
    });

    /**
     * Reads, writes and increments of keys in several slots of one master, all issued in the same tick (what one
     * request's fan-out or concurrent requests do): every one must answer, none fail with a redirect.
     */
    async function burst(groups: string[][]): Promise<Array<PromiseSettledResult<unknown>>> {
      const calls: Array<Promise<unknown>> = [];
      for (const keys of groups) {
        for (const key of keys) {
          calls.push(cache.get(key), cache.incr(`${key}:n`), cache.getMany([key, `${key}:n`]));
        }
        calls.push(cache.set(`${keys[0]}:w`, 'w'));
      }
      return Promise.allSettled(calls);
    }

    function failures(results: Array<PromiseSettledResult<unknown>>): string[] {
      return results
        .filter((result): result is PromiseRejectedResult => result.status === 'rejected')
        .map((result) => String((result.reason as Error).cause ?? result.reason));
    }

    it('after slots moved to another master (MOVED), each command is redirected and answers', async () => {
      const groups = await keysOnOneMaster(4, 5, 'mv');
      await Promise.all(groups.flat().map((key, i) => cache.set(key, i)));
      await expect(Promise.all(groups.flat().map((key) => cache.get(key)))).resolves.toHaveLength(20);
      const from = await ownerOf(await slotOf(groups[0][0]));
      const to = masters.find((master) => master !== from) as Master;
      // Two of the four slots move; the cache still maps them to `from`.
      for (const keys of groups.slice(0, 2)) {
        const slot = await slotOf(keys[0]);
        moved.push([slot, from]);
        await move(slot, from, to);
      }

      const results = await burst(groups);
      expect(failures(results)).toEqual([]);
      const values = await Promise.all(groups.flat().map((key) => cache.get(key)));
      expect(values).toEqual(groups.flat().map((_, i) => i));
      // Every increment ran exactly once.
      const counts = await Promise.all(groups.flat().map((key) => cache.getRaw(`${key}:n`)));
      expect(counts.map(Number)).toEqual(groups.flat().map(() => 1));
    });

    it('while slots are being migrated (ASK), each command follows the redirect and answers', async () => {
      const groups = await keysOnOneMaster(4, 6, 'ask');
      await Promise.all(groups.flat().map((key, i) => cache.set(key, i)));
      await Promise.all(groups.flat().map((key) => cache.set(`${key}:n`, 10)));
      const from = await ownerOf(await slotOf(groups[0][0]));
      const to = masters.find((master) => master !== from) as Master;
      // Two of the four slots are half migrated: some of their keys already on `to`, the rest still on `from`.
      for (const keys of groups.slice(0, 2)) {
        const slot = await slotOf(keys[0]);
        moved.push([slot, from]);
        await startMoving(slot, from, to, 7);
      }

      const results = await burst(groups);
      expect(failures(results)).toEqual([]);
      const values = await Promise.all(groups.flat().map((key) => cache.get(key)));
      expect(values).toEqual(groups.flat().map((_, i) => i));
      const counts = await Promise.all(groups.flat().map((key) => cache.getRaw(`${key}:n`)));
      expect(counts.map(Number)).toEqual(groups.flat().map(() => 11));
    });

    it('commands issued right after start-up all answer (node connections are ready, not connecting)', async () => {
      const fresh = await createCache(withQuery(must(clusterUrl()), { safe: '0' }));
      try {
        const keys = Array.from({ length: 300 }, (_, i) => `fresh:${i}`);
        await expect(Promise.all(keys.map((key, i) => fresh.set(key, i)))).resolves.toHaveLength(300);
        await expect(fresh.getMany(keys)).resolves.toEqual(keys.map((_, i) => i));
      } finally {
        await fresh.close();
      }
    });
  });

  // With commands sent one by one, a node whose connection had dropped stayed ended until a MOVED made the cluster
  // re-create it: the first burst after the drop failed whole ("Connection is closed.").
  describe('a node connection that drops', () => {
    it('reconnects by itself: the burst right after the drop answers, each command once', async () => {
      const cache = await createCache(withQuery(must(clusterUrl()), { safe: '0', command_timeout: '3s' }));
      try {
        const keys = Array.from({ length: 20 }, (_, i) => `{drop}:${i}`);
        await cache.setMany(keys.map((key, i): [string, number] => [key, i]));
        const master = await ownerOf(await slotOf('{drop}'));
        const owner = ((cache.backend as RedisClusterBackend).client as Cluster)
          .nodes('master')
          .find((node) => node.options.port === master.port);
        expect(owner).toBeDefined();
        owner!.stream.destroy();
        const burst = await Promise.allSettled(keys.map((key) => cache.get(key)));
        expect(burst.filter((result) => result.status === 'rejected')).toEqual([]);
        expect(burst.map((result) => (result as PromiseFulfilledResult<unknown>).value)).toEqual(keys.map((_, i) => i));
        // Counted exactly once each: commands sent while the node reconnected were queued, never written twice.
        await Promise.all(Array.from({ length: 10 }, () => cache.incr('{drop}:n')));
        expect(await cache.get('{drop}:n')).toBe(10);
      } finally {
        await cache.close();
      }
    });
  });

  describe('writes on a healthy cluster', () => {
    it('commands issued in the same tick leave in one socket write per master', async () => {
      const cache = await createCache(must(clusterUrl()));
      try {
        const nodes = ((cache.backend as RedisClusterBackend).client as Cluster).nodes('master');
        expect(nodes.map((node) => node.status)).toEqual(['ready', 'ready', 'ready']);
        const keys = Array.from({ length: 60 }, (_, i) => `tick:${i}`);
        await cache.setMany(keys.map((key, i): [string, number] => [key, i]));
        let writes = 0;
        const restore = nodes.map((node) => {
          // What the socket hands to the kernel: one _write per chunk, or one _writev for a corked batch.
          const socket = node.stream as unknown as {
            _write: (...a: unknown[]) => void;
            _writev?: (...a: unknown[]) => void;
          };
          const { _write, _writev } = socket;
          socket._write = function (...a: unknown[]) {
            writes++;
            return _write.apply(this, a);
          };
          if (_writev) {
            socket._writev = function (...a: unknown[]) {
              writes++;
              return _writev.apply(this, a);
            };
          }
          return () => Object.assign(socket, { _write, _writev });
        });
        try {
          await expect(Promise.all(keys.map((key) => cache.get(key)))).resolves.toEqual(keys.map((_, i) => i));
        } finally {
          restore.forEach((undo) => undo());
        }
        expect(writes).toBeGreaterThan(0);
        expect(writes).toBeLessThanOrEqual(3);
      } finally {
        await cache.close();
      }
    });
  });

  describe('cluster unreachable at start-up', () => {
    it('each command fails at once (a miss in safe mode), within command_timeout, while retries back off', async () => {
      const port = await closedPort();
      const cache = await createCache(`redis+cluster://127.0.0.1:${port}?command_timeout=300ms&connect_timeout=200ms`);
      try {
        // Long enough for the cluster client's reconnect delay (100 ms more per attempt) to pass command_timeout.
        const latencies: number[] = [];
        const end = Date.now() + 2_500;
        for (let i = 0; i < 10_000 && Date.now() < end; i++) {
          const started = Date.now();
          await expect(cache.get('unreachable')).resolves.toBeUndefined();
          latencies.push(Date.now() - started);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(latencies.length).toBeGreaterThan(20);
        expect(Math.max(...latencies)).toBeLessThan(300);
      } finally {
        await cache.close();
      }
    });

    it("a commit (a transaction's MULTI) fails at once too, not at the next connection attempt", async () => {
      const port = await closedPort();
      const cache = await createCache(`redis+cluster://127.0.0.1:${port}?command_timeout=300ms&connect_timeout=200ms`);
      try {
        expect(cache.backend).toBeInstanceOf(RedisClusterBackend);
        // Let the reconnect delay grow past command_timeout (attempts 100, 200, 300, 400 ms apart).
        await new Promise((resolve) => setTimeout(resolve, 1_100));
        const latencies: number[] = [];
        for (let i = 0; i < 3; i++) {
          const started = Date.now();
          await expect(cache.backend.commit?.([{ op: 'set', key: `tx:${i}`, raw: '1' }])).rejects.toThrow();
          latencies.push(Date.now() - started);
        }
        expect(Math.max(...latencies)).toBeLessThan(300);
      } finally {
        await cache.close();
      }
    });
  });
});
