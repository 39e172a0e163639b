/**
 * Issue #15, Redis throughput: on a single server, `GET`s issued in the same turn of the event loop leave as one `MGET` (one ioredis
 * command for the batch instead of one per key), a lone read is still a `GET`, and a write issued after reads in the
 * same tick still reaches the server after them. Database 11 of the worker's Redis (flushed after the file).
 */
import type { Redis } from 'ioredis';
import { RedisBackend } from '../../lib/backends/redis.backend.js';
import { resolveCacheConfig } from '../../lib/config/cache-url.js';
import { createCache } from '../../lib/create-cache.js';
import { describeRedis, flushRedisDb, redisUrl, watchCommands } from '../support/redis.js';

const DB = 11;

describeRedis('Redis reads batched into MGET', () => {
  let backend: RedisBackend;
  const sent: string[] = [];
  /** The number of keys of each MGET sent, in order. */
  const mgets: number[] = [];
  afterAll(() => flushRedisDb(DB));
  beforeEach(async () => {
    backend = new RedisBackend(resolveCacheConfig(redisUrl(DB)!));
    await backend.connect();
    watchCommands(backend.client as Redis, (command) => {
      sent.push(command.name);
      if (command.name === 'mget') mgets.push(command.args.length);
    });
    sent.length = 0;
    mgets.length = 0;
  });
  afterEach(() => backend.close());

  it('keeps two batches in flight: a burst that finds nothing in flight leaves in halves, the next bursts whole', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `batch:burst:${i}`);
    await Promise.all(keys.map((key) => backend.set(key, key, { ttl: 60_000 })));
    mgets.length = 0;
    // 100 callers reading three keys each, one after the other: every read answers its own key's value.
    const answers = await Promise.all(
      keys.map(async (key, i) => [
        await backend.get(key),
        await backend.get(keys[(i + 1) % 100]),
        await backend.get(keys[(i + 2) % 100]),
      ]),
    );
    expect(answers).toEqual(keys.map((key, i) => [key, keys[(i + 1) % 100], keys[(i + 2) % 100]]));
    // The first burst leaves whole (nothing was answered before it); its callers come back with nothing in flight and
    // leave in two halves; each half's callers then find the other half in flight and leave whole.
    expect(mgets).toEqual([100, 50, 50, 50, 50]);
  });

  it('never sends an MGET of more than 512 keys, however large the burst before', async () => {
    const keys = Array.from({ length: 1500 }, (_, i) => `batch:large:${i}`);
    await Promise.all(keys.map((key) => backend.set(key, 'v', { ttl: 60_000 })));
    mgets.length = 0;
    // Six bursts of 1500 reads: the first leaves in batches of 512; the next ones start from a burst of up to 1500.
    const answers = await Promise.all(
      keys.map(async (key) => {
        const values: unknown[] = [];
        for (let i = 0; i < 6; i++) values.push(await backend.get(key));
        return values;
      }),
    );
    expect(answers.flat().every((value) => value === 'v')).toBe(true);
    expect(mgets.reduce((sum, n) => sum + n, 0)).toBe(9000);
    expect(Math.max(...mgets)).toBeLessThanOrEqual(512);
  });

  it('sends a small burst whole, whatever was in flight before', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `batch:small:${i}`);
    await Promise.all(keys.map((key) => backend.set(key, key, { ttl: 60_000 })));
    mgets.length = 0;
    await Promise.all(keys.map(async (key) => [await backend.get(key), await backend.get(key)]));
    expect(mgets).toEqual([20, 20]);
  });

  it('sends concurrent gets as one MGET and answers each its own value (a missing key: undefined)', async () => {
    for (let i = 0; i < 50; i++) await backend.set(`batch:${i}`, `v${i}`, { ttl: 60_000 });
    sent.length = 0;
    const keys = [...Array.from({ length: 50 }, (_, i) => `batch:${i}`), 'batch:missing'];
    const values = await Promise.all(keys.map((key) => backend.get(key)));
    expect(values).toEqual([...Array.from({ length: 50 }, (_, i) => `v${i}`), undefined]);
    expect(sent).toEqual(['mget']);
  });

  it('sends the reads of one event-loop turn as one MGET, even when separate callbacks issue them (HTTP requests)', async () => {
    await backend.set('batch:turn:a', 'a');
    await backend.set('batch:turn:b', 'b');
    sent.length = 0;
    // Two callbacks of one turn, as two requests read in one poll of the sockets: each reads once.
    const reads = await new Promise<Array<Promise<unknown>>>((resolve) => {
      const issued: Array<Promise<unknown>> = [];
      setImmediate(() => issued.push(backend.get('batch:turn:a')));
      setImmediate(() => {
        issued.push(backend.get('batch:turn:b'));
        resolve(issued);
      });
    });
    expect(await Promise.all(reads)).toEqual(['a', 'b']);
    expect(sent).toEqual(['mget']);
    expect(mgets).toEqual([2]);
  });

  it('sends a lone read as GET', async () => {
    await backend.set('batch:lone', 'x');
    sent.length = 0;
    expect(await backend.get('batch:lone')).toBe('x');
    expect(sent).toEqual(['get']);
  });

  it('keeps a read issued before a write in the same tick before it, and one issued after it after', async () => {
    await backend.set('batch:order', 'old');
    sent.length = 0;
    const before = backend.get('batch:order');
    const other = backend.get('batch:other');
    const write = backend.set('batch:order', 'new');
    const after = backend.get('batch:order');
    expect(await before).toBe('old');
    expect(await other).toBeUndefined();
    expect(await write).toBe(true);
    expect(await after).toBe('new');
    // The write is the set script (SET keeping the key's tags: see lib/tags/redis-tag-scripts.ts).
    expect(sent).toEqual(['mget', 'evalsha', 'get']);
  });

  it('applies a setMany after a write of the same key issued before it (review: MULTI overtook auto-pipelined writes)', async () => {
    await backend.set('batch:many', '0');
    await Promise.all([backend.set('batch:many', '1'), backend.setMany([['batch:many', '2']], 60_000)]);
    expect(await backend.get('batch:many')).toBe('2');
  });

  it('keeps a read issued before a setMany from seeing it while another write waits in the auto-pipeline', async () => {
    await backend.set('batch:many', '0');
    const unrelated = backend.set('batch:unrelated', 'x');
    const before = backend.get('batch:many');
    await backend.setMany([['batch:many', '2']]);
    expect(await before).toBe('0');
    await unrelated;
    expect(await backend.get('batch:many')).toBe('2');
  });

  it("applies a transaction's commit after a write of the same key issued before it (its MULTI waits its turn)", async () => {
    await backend.set('batch:commit', '0');
    await Promise.all([
      backend.set('batch:commit', '1'),
      backend.commit([{ op: 'set', key: 'batch:commit', raw: '2', ttl: 60_000 }]),
    ]);
    expect(await backend.get('batch:commit')).toBe('2');
  });

  it('keeps a read issued before a commit from seeing it while another write waits in the auto-pipeline', async () => {
    await backend.set('batch:commit', '0');
    const unrelated = backend.set('batch:unrelated', 'x');
    const before = backend.get('batch:commit');
    await backend.commit([{ op: 'set', key: 'batch:commit', raw: '2' }]);
    expect(await before).toBe('0');
    await unrelated;
    expect(await backend.get('batch:commit')).toBe('2');
  });

  it("writes a batch in its turn's setImmediate phase, after the callbacks of the turn, when no write is queued", async () => {
    await backend.set('batch:now', 'x');
    const client = backend.client as Redis;
    const read = backend.get('batch:now');
    // Not yet at the end of this tick: a read issued by another callback of the turn still joins it.
    await new Promise((resolve) => process.nextTick(resolve));
    expect(client.commandQueue.length).toBe(0);
    // The batch leaves in a setImmediate queued by the read, before this one: then it is on the socket awaiting its
    // reply.
    await new Promise((resolve) => setImmediate(resolve));
    expect(client.commandQueue.length).toBe(1);
    expect(await read).toBe('x');
  });

  it("writes a TTL asked with a read in the batch's socket write, not at the next auto-pipeline turn", async () => {
    await backend.set('batch:ttl', 'x', { ttl: 60_000 });
    const client = backend.client as Redis;
    sent.length = 0;
    const read = backend.get('batch:ttl');
    const left = backend.getExpire('batch:ttl');
    // Both leave in the setImmediate the read queued: a detected hit's value and TTL cost one write, two small commands.
    await new Promise((resolve) => setImmediate(resolve));
    expect(client.commandQueue.length).toBe(2);
    expect(await read).toBe('x');
    expect(await left).toBeGreaterThan(59_000);
    expect(await left).toBeLessThanOrEqual(60_000);
    expect(sent).toEqual(['get', 'pttl']);
  });

  it('answers each TTL of a batch its own key: -2 missing, -1 no expiry', async () => {
    await backend.set('batch:ttl:a', 'x', { ttl: 30_000 });
    await backend.set('batch:ttl:b', 'y');
    sent.length = 0;
    const lefts = await Promise.all(['batch:ttl:a', 'batch:ttl:b', 'batch:ttl:none'].map((k) => backend.getExpire(k)));
    expect(lefts[0]).toBeGreaterThan(29_000);
    expect(lefts.slice(1)).toEqual([-1, -2]);
    expect(sent).toEqual(['pttl', 'pttl', 'pttl']);
  });

  it('keeps a TTL asked before a write in the same tick before it, and one asked after it after', async () => {
    await backend.set('batch:ttl:order', 'x', { ttl: 60_000 });
    const before = backend.getExpire('batch:ttl:order');
    const write = backend.set('batch:ttl:order', 'y', { ttl: 5_000 });
    const after = backend.getExpire('batch:ttl:order');
    expect(await before).toBeGreaterThan(59_000);
    expect(await write).toBe(true);
    expect(await after).toBeLessThanOrEqual(5_000);
  });

  it('fails a TTL asked of a closed connection (never a number made up)', async () => {
    await backend.close();
    await expect(backend.getExpire('batch:ttl')).rejects.toThrow();
  });

  it('answers each read of a batch alone: a value the codec refuses is a miss for its key only', async () => {
    const cache = await createCache(redisUrl(DB)!);
    try {
      await cache.set('batch:good', { ok: true });
      await backend.set('batch:foreign', 'not the cashews format');
      const values = await Promise.all([cache.get('batch:good'), cache.get('batch:foreign'), cache.get('batch:none')]);
      expect(values).toEqual([{ ok: true }, undefined, undefined]);
    } finally {
      await cache.close();
    }
  });

  it('fails every read of a batch whose MGET failed (the caller decides: safe mode answers misses)', async () => {
    await backend.close();
    const reads = [backend.get('batch:a'), backend.get('batch:b')];
    for (const read of reads) await expect(read).rejects.toThrow();
  });
});
