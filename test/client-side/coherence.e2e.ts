/**
 * Client-side cache (`?client_side=1`) coherence: two processes on one Redis, tracking connections killed with
 * CLIENT KILL, a Redis restart, local hits without round trips. Uses db 13 of the shared Redis (flushed after the
 * file) and, for the restart, a private redis-server.
 */
import type { Command } from 'ioredis';
import {
  CacheService,
  CashewsConfigError,
  ClientSideBackend,
  createCache,
  MISS,
  resolveCacheConfig,
} from '../../lib/index.js';
import {
  describeRedis,
  describeRedisServer,
  flushRedisDb,
  pollUntil,
  rawRedis,
  redisUrl,
  sleep,
  startRedisServer,
  withQuery,
  type RedisServerHandle,
} from '../support/redis.js';
import { startRemoteCache, type RemoteCache } from './worker.js';

const DB = 13;

function url(): string {
  const base = redisUrl(DB);
  if (!base) throw new Error('Redis URL missing although the suite is not skipped');
  return withQuery(base, { client_side: '1' });
}

function backendOf(cache: CacheService): ClientSideBackend {
  expect(cache.backend).toBeInstanceOf(ClientSideBackend);
  return cache.backend as ClientSideBackend;
}

/** Counts commands sent on the data connection from now on. */
function countCommands(backend: ClientSideBackend): { count: () => number } {
  let sent = 0;
  const client = backend.client as unknown as { sendCommand: (command: Command, ...rest: unknown[]) => unknown };
  const send = client.sendCommand.bind(client);
  client.sendCommand = (command, ...rest) => {
    sent++;
    return send(command, ...rest);
  };
  return { count: () => sent };
}

describe('client_side configuration', () => {
  it('is refused on redis+cluster with a clear CashewsConfigError', () => {
    expect(() => resolveCacheConfig('redis+cluster://127.0.0.1:7000?client_side=1')).toThrow(CashewsConfigError);
    expect(() => resolveCacheConfig('redis+cluster://127.0.0.1:7000', { clientSide: true })).toThrow(
      /client_side is not supported on redis\+cluster/,
    );
  });

  it('is a Redis parameter with a size', () => {
    const config = resolveCacheConfig('redis://127.0.0.1:6379?client_side=1&client_side_size=50');
    expect(config).toMatchObject({ clientSide: true, clientSideSize: 50 });
    expect(resolveCacheConfig('redis://127.0.0.1:6379')).toMatchObject({ clientSide: false, clientSideSize: 10_000 });
    expect(() => resolveCacheConfig('mem://?client_side=1')).toThrow(CashewsConfigError);
    expect(() => resolveCacheConfig('redis://h?client_side_size=0&client_side=1')).toThrow(CashewsConfigError);
    expect(() => resolveCacheConfig('redis://h?client_side=maybe')).toThrow(CashewsConfigError);
  });
});

describeRedis('client-side cache on one Redis', () => {
  const caches: CacheService[] = [];
  let remote: RemoteCache | undefined;
  const open = async (): Promise<CacheService> => {
    const cache = await createCache(url());
    caches.push(cache);
    return cache;
  };

  afterEach(async () => {
    await remote?.close();
    remote = undefined;
    for (const cache of caches.splice(0)) await cache.close();
  });

  afterAll(async () => {
    await flushRedisDb(DB);
  });

  it('a local hit makes no round trip; getMany of local keys neither', async () => {
    const cache = await open();
    const backend = backendOf(cache);
    expect(backend.trackingActive).toBe(true);
    await cache.set('cs:hit:a', { a: 1 });
    await cache.set('cs:hit:b', [2]);
    await expect(cache.get('cs:hit:a')).resolves.toEqual({ a: 1 });
    await expect(cache.get('cs:hit:b')).resolves.toEqual([2]);
    const commands = countCommands(backend);
    for (let i = 0; i < 100; i++) await expect(cache.get('cs:hit:a')).resolves.toEqual({ a: 1 });
    await expect(cache.getMany(['cs:hit:b', 'cs:hit:a', 'cs:hit:b'])).resolves.toEqual([[2], { a: 1 }, [2]]);
    expect(commands.count()).toBe(0);
    expect(backend.localSize).toBe(2);
  });

  it('a write by this process is read back at once (read-your-writes), also for delete and incr', async () => {
    const cache = await open();
    await cache.set('cs:ryw', 1);
    for (let i = 2; i < 50; i++) {
      await expect(cache.get('cs:ryw')).resolves.toBe(i - 1);
      await cache.set('cs:ryw', i);
      await expect(cache.get('cs:ryw')).resolves.toBe(i);
    }
    await cache.delete('cs:ryw');
    await expect(cache.get('cs:ryw')).resolves.toBeUndefined();
    await cache.incr('cs:ryw-n');
    await expect(cache.get('cs:ryw-n')).resolves.toBe(1);
    await cache.incr('cs:ryw-n');
    await expect(cache.get('cs:ryw-n')).resolves.toBe(2);
  });

  it('a read made right after a write, in the same turn and not awaited, answers the write, not the local copy', async () => {
    const cache = await open();
    const backend = backendOf(cache);
    /** `key` holds `value` locally (read twice: the second read is a local hit). */
    const held = async (key: string, value: unknown = 'v1') => {
      await cache.set(key, value);
      await expect(cache.get(key)).resolves.toEqual(value);
      await expect(cache.get(key)).resolves.toEqual(value);
      expect(backend.readLocal(key, (_, raw) => raw)).not.toBe(MISS);
    };
    const writes: Array<[string, (key: string) => Promise<unknown>, unknown]> = [
      ['set', (key) => cache.set(key, 'v2'), 'v2'],
      ['set with tags', (key) => cache.set(key, 'v2', { tags: ['cs:own'] }), 'v2'],
      ['setMany', (key) => cache.setMany([[key, 'v2']]), 'v2'],
      ['delete', (key) => cache.delete(key), undefined],
      ['deleteMany', (key) => cache.deleteMany([key]), undefined],
    ];
    for (const [label, write, expected] of writes) {
      const key = `cs:own:${label}`;
      await held(key);
      const written = write(key);
      const read = cache.get(key);
      await written;
      await expect(read).resolves.toEqual(expected);
    }
    await held('cs:own:n', 1);
    const counted = cache.incr('cs:own:n');
    const count = cache.get('cs:own:n');
    await counted;
    await expect(count).resolves.toBe(2);
    // Writes that leave the value as it was, or whose keys only Redis knows: the local copy goes when they are called.
    const dropped: Array<[string, (key: string) => Promise<unknown>]> = [
      ['expire', (key) => cache.expire(key, '20ms')],
      ['deleteMatch', (key) => cache.deleteMatch(`${key}*`)],
      ['deleteTags', () => cache.deleteTags('cs:none')],
      ['clear', () => cache.clear()],
    ];
    for (const [label, write] of dropped) {
      const key = `cs:own:${label}`;
      await held(key);
      const written = write(key);
      expect(backend.readLocal(key, (_, raw) => raw)).toBe(MISS);
      await written;
    }
  });

  it('entries never outlive the Redis TTL', async () => {
    const cache = await open();
    await cache.set('cs:ttl', 'v', { ttl: 300 });
    await expect(cache.get('cs:ttl')).resolves.toBe('v');
    expect(backendOf(cache).localSize).toBe(1);
    await sleep(500);
    await expect(cache.get('cs:ttl')).resolves.toBeUndefined();
  });

  it('two processes: a write in one is seen by the other within the invalidation delay, never later', async () => {
    const local = await open();
    remote = await startRemoteCache(url());
    await expect(remote.state()).resolves.toMatchObject({ tracking: true });
    // Invalidations travel asynchronously (Redis writes the writer's reply first): a read issued the instant the
    // write is acknowledged through this test's pipe may still see the old value. The reader then reads again
    // until it sees the write, for at most a second: a copy still stale after that would never have been dropped.
    let immediate = 0;
    let stale = 0;
    const keys = ['cs:mp:0', 'cs:mp:1', 'cs:mp:2'];
    for (let i = 0; i < 150; i++) {
      const key = keys[i % keys.length];
      // Both processes hold the current value locally before the write.
      await local.get(key);
      await remote.get(key);
      const [writer, reader] = i % 2 === 0 ? [local, remote] : [remote, local];
      await writer.set(key, { i });
      const seesWrite = async () => JSON.stringify(await reader.get(key)) === JSON.stringify({ i });
      if (!(await seesWrite())) {
        immediate++;
        if (!(await pollUntil(seesWrite, 1_000, 0))) stale++;
      }
    }
    expect(stale).toBe(0);
    expect(immediate).toBeLessThanOrEqual(150); // reported, not bounded: depends on scheduling (see the README)
    // The reads really were served locally in both processes.
    expect(backendOf(local).localSize).toBeGreaterThan(0);
    expect((await remote.state()).localSize).toBeGreaterThan(0);
  }, 60_000);

  it('a write by a plain client (no client_side) invalidates too, and a FLUSHDB drops everything', async () => {
    const cache = await open();
    const raw = rawRedis(redisUrl(DB) ?? '');
    try {
      await cache.set('cs:plain', 'old');
      await expect(cache.get('cs:plain')).resolves.toBe('old');
      const plain = await createCache(redisUrl(DB) ?? '');
      caches.push(plain);
      await plain.set('cs:plain', 'new');
      // Same process, other connection: Redis answers the writer before it publishes the invalidation.
      expect(await pollUntil(async () => (await cache.get('cs:plain')) === 'new', 1_000, 0)).toBe(true);
      await raw.flushdb();
      expect(await pollUntil(async () => (await cache.get('cs:plain')) === undefined, 1_000, 0)).toBe(true);
    } finally {
      raw.disconnect();
    }
  });

  it.each<['invalidation' | 'data']>([['invalidation'], ['data']])(
    'CLIENT KILL of the %s connection: no stale read, then tracking recovers',
    async (which) => {
      const cache = await open();
      const backend = backendOf(cache);
      const raw = rawRedis(redisUrl(DB) ?? '');
      try {
        await cache.set('cs:kill', 1);
        await expect(cache.get('cs:kill')).resolves.toBe(1);
        expect(backend.localSize).toBe(1);
        const id = which === 'invalidation' ? backend.invalidationClientId : Number(await backend.client.client('ID'));
        expect(id).toBeDefined();
        await raw.client('KILL', 'ID', String(id));
        // Written while this process has no working tracking. The close is noticed when this process reads it,
        // and Redis may close the killed socket only after answering the KILL: the SET's reply can be read in
        // the same instant as the close, the same race as a write acknowledged to someone else (README). Once
        // the close is read, 1 is never served again (a miss is fine while the data connection reconnects).
        await raw.set('cs:kill', '2');
        // The local copy is flushed when the close is read (and stays empty: nothing reads in between).
        expect(await pollUntil(async () => backend.localSize === 0, 1_000, 0)).toBe(true);
        expect([2, undefined]).toContain(await cache.get('cs:kill'));
        expect(await pollUntil(async () => backend.trackingActive, 5_000, 20)).toBe(true);
        // Recovered: cached again, and invalidated again.
        await expect(cache.get('cs:kill')).resolves.toBe(2);
        expect(backend.localSize).toBe(1);
        await raw.set('cs:kill', '3');
        expect(await pollUntil(async () => (await cache.get('cs:kill')) === 3, 1_000, 1)).toBe(true);
        expect(backend.localSize).toBe(1);
      } finally {
        raw.disconnect();
      }
    },
  );
});

describeRedisServer('client-side cache across a Redis restart', () => {
  let server: RedisServerHandle | undefined;
  let cache: CacheService | undefined;

  afterEach(async () => {
    await cache?.close();
    await server?.stop();
    cache = server = undefined;
  });

  it('bypasses the local layer while Redis is away and never serves the old value after it is back', async () => {
    server = await startRedisServer();
    cache = await createCache(withQuery(server.url, { client_side: '1', command_timeout: '300ms' }));
    const backend = backendOf(cache);
    await cache.set('cs:restart', 'before');
    await expect(cache.get('cs:restart')).resolves.toBe('before');
    expect(backend.localSize).toBe(1);
    await server.stop();
    expect(await pollUntil(async () => !backend.trackingActive, 3_000, 10)).toBe(true);
    expect(backend.localSize).toBe(0);
    await expect(cache.get('cs:restart')).resolves.toBeUndefined(); // safe mode: a miss, not the local copy
    await server.restart();
    expect(await pollUntil(async () => backend.trackingActive, 10_000, 20)).toBe(true);
    // The restarted server is empty (no persistence): the old value must be gone locally as well.
    await expect(cache.get('cs:restart')).resolves.toBeUndefined();
    await cache.set('cs:restart', 'after');
    await expect(cache.get('cs:restart')).resolves.toBe('after');
    // The read above may cross the invalidation of our own write (the key was tracked by the miss before it) and
    // is then not kept; the next one is.
    expect(
      await pollUntil(async () => (await cache!.get('cs:restart')) === 'after' && backend.localSize === 1, 1_000, 5),
    ).toBe(true);
    const raw = rawRedis(server.url);
    try {
      await raw.set('cs:restart', '7');
      expect(await pollUntil(async () => (await cache!.get('cs:restart')) === 7, 1_000, 1)).toBe(true);
    } finally {
      raw.disconnect();
    }
  }, 30_000);
});
