/**
 * Issue #9 item 18: how long a silently stalled invalidation connection can serve stale local reads. A proxy in
 * front of a private redis-server loses every reply to the invalidation connection (named
 * `cashews:invalidations`) — invalidations and health pings alike, the socket staying open — while another
 * instance writes directly to the server. Local reads must stop being served from the local layer within the
 * bound the README states (`staleReadBoundMs`: 1 s ping interval + `command_timeout`), plus a margin.
 */
import { CacheBackendError, ClientSideBackend, createCache, type CacheService } from '../../lib/index.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import {
  describeRedisServer,
  pollUntil,
  sleep,
  startRedisServer,
  withQuery,
  type RedisServerHandle,
} from '../support/redis.js';

const INVALIDATIONS = (sent: string) => sent.includes('cashews:invalidations');
/** Generous: timers on a loaded 2-core machine fire late; the assertion is about the order of magnitude. */
const MARGIN_MS = 1_000;

/**
 * `local` (tracking active) holds `stale:k` = 'v1'; then its invalidation connection goes silent (replies lost,
 * socket open), `writer` writes 'v2', and `local` must stop serving the stale copy within `staleReadBoundMs` (plus
 * {@link MARGIN_MS}).
 */
async function expectStaleReadsBounded(
  proxy: FaultProxy,
  local: CacheService,
  writer: CacheService,
  backend: ClientSideBackend,
): Promise<void> {
  await writer.set('stale:k', 'v1');
  await expect(local.get('stale:k')).resolves.toBe('v1');
  expect(backend.localSize).toBe(1); // held locally: the next reads make no round trip

  proxy.loseReplies(INVALIDATIONS);
  await writer.set('stale:k', 'v2');
  const written = performance.now();
  const deadline = written + backend.staleReadBoundMs + MARGIN_MS;
  // The invalidation was lost: right after the write, the local copy is stale (the fault is real).
  let seen = await local.get('stale:k');
  expect(seen).toBe('v1');
  while (seen !== 'v2' && performance.now() < deadline) {
    await sleep(20);
    seen = await local.get('stale:k');
  }
  const staleFor = performance.now() - written;
  expect(seen).toBe('v2');
  expect(staleFor).toBeLessThanOrEqual(backend.staleReadBoundMs + MARGIN_MS);
  expect(backend.trackingActive).toBe(false);
}

describeRedisServer('client_side: a silently stalled invalidation connection', () => {
  let server: RedisServerHandle;
  let proxy: FaultProxy;
  const caches: CacheService[] = [];

  beforeEach(async () => {
    server = await startRedisServer();
    proxy = await startFaultProxy(server.port);
  });
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
    await proxy.close();
    await server.stop();
  });

  it.each(['500ms', '1s'])(
    'serves stale local reads for at most staleReadBoundMs (command_timeout=%s), then reads Redis again',
    async (commandTimeout) => {
      const local = await createCache(withQuery(proxy.url, { client_side: '1', command_timeout: commandTimeout }));
      const writer = await createCache(server.url);
      caches.push(local, writer);
      const backend = local.backend as ClientSideBackend;
      expect(backend).toBeInstanceOf(ClientSideBackend);
      expect(backend.staleReadBoundMs).toBe(1_000 + (commandTimeout === '1s' ? 1_000 : 500));
      expect(await pollUntil(async () => backend.trackingActive, 5_000)).toBe(true);

      await expectStaleReadsBounded(proxy, local, writer, backend);

      // While the invalidation path stays silent, nothing is served locally, so nothing stale either.
      await writer.set('stale:k', 'v3');
      await expect(local.get('stale:k')).resolves.toBe('v3');
      expect(backend.localSize).toBe(0);

      // Once it answers again, tracking is re-established on a new connection and the local layer resumes.
      proxy.heal();
      proxy.cutAll();
      expect(await pollUntil(async () => backend.trackingActive, 10_000, 100)).toBe(true);
      await expect(local.get('stale:k')).resolves.toBe('v3');
      await writer.set('stale:k', 'v4');
      expect(await pollUntil(async () => (await local.get('stale:k')) === 'v4', 2_000, 20)).toBe(true);
    },
  );

  it('keeps the bound when the invalidation connection failed its first connect (health ping armed anyway)', async () => {
    // The invalidation connection is dropped during its handshake: connect() fails (safe mode carries on) and
    // ioredis reconnects it in the background, after which tracking comes on.
    proxy.dropConnections(INVALIDATIONS, 1);
    const local = await createCache(withQuery(proxy.url, { client_side: '1', command_timeout: '500ms' }));
    const writer = await createCache(server.url);
    caches.push(local, writer);
    expect(proxy.dropped).toBe(1);
    const backend = local.backend as ClientSideBackend;
    expect(await pollUntil(async () => backend.trackingActive, 5_000)).toBe(true);

    await expectStaleReadsBounded(proxy, local, writer, backend);
  });
});

describeRedisServer('client_side: Redis unreachable at start-up', () => {
  let server: RedisServerHandle;
  const caches: CacheService[] = [];

  beforeEach(async () => {
    server = await startRedisServer();
  });
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
    await server.stop();
  });

  it('reads from Redis without the local layer, then turns tracking on once Redis is back', async () => {
    await server.stop(); // nothing listens on its port now
    const params = { client_side: '1', connect_timeout: '300ms', command_timeout: '500ms' };
    const local = await createCache(withQuery(server.url, params)); // safe mode: answers misses meanwhile
    caches.push(local);
    const backend = local.backend as ClientSideBackend;
    await expect(local.get('down:k')).resolves.toBeUndefined();
    expect(backend.trackingActive).toBe(false);

    await server.restart();
    const writer = await createCache(server.url);
    caches.push(writer);
    await writer.set('down:k', 'v1');
    // The data connection comes back first (ioredis's retry delay): until tracking is on, every read goes to Redis
    // and nothing is kept locally, so nothing can be stale.
    const read = await pollUntil(
      async () => {
        const value = await local.get('down:k');
        if (!backend.trackingActive) expect(backend.localSize).toBe(0);
        return value === 'v1';
      },
      10_000,
      50,
    );
    expect(read).toBe(true);

    expect(await pollUntil(async () => backend.trackingActive, 10_000, 100)).toBe(true);
    await expect(local.get('down:k')).resolves.toBe('v1');
    expect(backend.localSize).toBe(1);
    // Invalidations reach it: another client's write replaces the local copy.
    await writer.set('down:k', 'v2');
    expect(await pollUntil(async () => (await local.get('down:k')) === 'v2', 2_000, 20)).toBe(true);
  });
  it('with safe=0 start-up fails at once, and no rejection goes unhandled', async () => {
    await server.stop();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const params = { client_side: '1', connect_timeout: '300ms', safe: '0' };
      await expect(createCache(withQuery(server.url, params))).rejects.toBeInstanceOf(CacheBackendError);
      await sleep(200);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
