/**
 * Issue #9 item 18: how long a silently stalled invalidation connection can serve stale local reads. A proxy in
 * front of a private redis-server loses every reply to the invalidation connection (named
 * `cashews:invalidations`) — invalidations and health pings alike, the socket staying open — while another
 * instance writes directly to the server. Local reads must stop being served from the local layer within the
 * bound the README states (`staleReadBoundMs`: 1 s ping interval + `command_timeout`), plus a margin.
 */
import { ClientSideBackend, createCache, type CacheService } from '../../lib/index.js';
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
});
