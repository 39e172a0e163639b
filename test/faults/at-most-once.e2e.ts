/**
 * Issue #9 item 5: a non-idempotent command runs at most once per call, whatever happens to its connection.
 * Hundreds of commands are kept in flight while connections are cut (CLIENT KILL, and a proxy that loses the
 * replies and then resets the connections). Every call uses a fresh key, so a double application is seen
 * exactly: a counter at 2, an incr that answered 2, a first call refused by its own rate limit or lock.
 */
import { engineOf } from '../../lib/engine/engine-of.js';
import { randomUUID } from 'node:crypto';
import { CacheBackendError, LockedError, RedisBackend, type CacheService, createCache } from '../../lib/index.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import {
  describeRedisServer,
  pollUntil,
  sleep,
  startRedisServer,
  withQuery,
  type RedisServerHandle,
} from '../support/redis.js';
import { FAULT_TEST_TIMEOUT_MS, NONE, killClients, rawValues, summary, underFaults, within } from './fault-support.js';

const WORKERS = 200;
const ROUNDS = 5;
const GAP_MS = 120;

describeRedisServer('faults: at most once per call', () => {
  let server: RedisServerHandle;
  let proxy: FaultProxy | undefined;
  const caches: CacheService[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server.stop();
  });
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => within(cache.close(), 5000, 'close').catch(() => undefined)));
    await proxy?.close();
    proxy = undefined;
    // No unhandled rejection: Jest fails the test during which one occurs (its own process sees them; a listener on
    // this environment's `process` never fires, so the check that used to stand here could not fail).
  });

  async function open(url: string): Promise<CacheService> {
    const cache = await within(createCache(withQuery(url, { command_timeout: '2s' })), 10_000, 'createCache');
    caches.push(cache);
    return cache;
  }

  /** The cache's connection is not ready: its commands fail at once (and safe mode answers from memory). */
  function offline(cache: CacheService): () => boolean {
    const backend = cache.backend;
    if (!(backend instanceof RedisBackend)) throw new Error('expected a RedisBackend');
    return () => backend.client.status !== 'ready';
  }

  /** The two ways a connection dies with commands in flight. */
  const faults: Array<[string, () => Promise<string>]> = [
    ['CLIENT KILL', async () => server.url],
    [
      'a proxy that loses the replies, then resets the connections',
      async () => {
        proxy = await startFaultProxy(server.port);
        return proxy.url;
      },
    ],
  ];
  async function inject(): Promise<void> {
    if (!proxy) return killClients(server.url);
    const lost = proxy.lostReplies;
    proxy.loseReplies();
    // Cut once the traffic has had replies lost: commands that ran on the server with no answer are in flight.
    await pollUntil(async () => proxy!.lostReplies > lost, 5_000, 1);
    proxy.cutAll();
    proxy.heal();
  }

  describe.each(faults)('under %s', (_label, target) => {
    it(
      'an incr that resolved ran exactly once; one that failed ran at most once',
      async () => {
        const cache = await open(await target());
        const tag = `incr-${randomUUID().slice(0, 8)}`;
        const answers = new Map<string, number>();
        let failures = 0;
        const otherErrors: unknown[] = [];
        const { calls } = await underFaults({
          workers: WORKERS,
          rounds: ROUNDS,
          gapMs: GAP_MS,
          fault: inject,
          offline: offline(cache),
          op: async (n) => {
            const key = `${tag}:${n}`;
            try {
              answers.set(key, await cache.incr(key, 1, { ttl: '1m' }));
              return 'ok';
            } catch (error) {
              // Collected, not expect()ed here: thousands of failures would each pay for a matcher.
              if (!(error instanceof CacheBackendError)) otherErrors.push(error);
              failures++;
              return 'failed';
            }
          },
        });
        // Every failure is a CacheBackendError.
        expect(summary(otherErrors)).toEqual(NONE);
        const stored = await rawValues(server.url, tag);
        // A fresh counter answers 1, never 2, and holds 1: the call was applied once.
        expect(summary([...answers.values()].filter((value) => value !== 1))).toEqual(NONE);
        expect(summary([...answers.keys()].filter((key) => stored.get(key) !== '1'))).toEqual(NONE);
        // A failed call may have run (its reply was lost), but only once.
        expect(summary([...stored.values()].filter((value) => value !== '1'))).toEqual(NONE);
        expect(answers.size + failures).toBe(calls);
        expect(failures).toBeGreaterThan(0); // the faults did hit calls in flight
        expect(answers.size).toBeGreaterThan(0);
      },
      FAULT_TEST_TIMEOUT_MS,
    );

    it(
      'a lock on an unused key is never refused, and no lock outlives the fault',
      async () => {
        const cache = await open(await target());
        const tag = `lock-${randomUUID().slice(0, 8)}`;
        const refused: unknown[] = [];
        await underFaults({
          workers: WORKERS,
          rounds: ROUNDS,
          gapMs: GAP_MS,
          fault: inject,
          offline: offline(cache),
          op: async (n) => {
            try {
              await cache.lock(`${tag}:${n}`, '60s', () => sleep(1), { wait: false });
              return 'ok';
            } catch (error) {
              refused.push(error);
              return 'failed';
            }
          },
        });
        // Safe mode: a lock whose backend failed runs the function unlocked; a LockedError means the lock met
        // itself (its SET NX re-sent after the reply was lost).
        expect(summary(refused.filter((error) => error instanceof LockedError))).toEqual(NONE);
        expect(summary(refused)).toEqual(NONE);
        // Locks whose acquisition or release reply was lost are released with their own token once the
        // connection is back: well before their 60 s TTL.
        const released = await pollUntil(async () => (await rawValues(server.url, tag)).size === 0, 10_000, 200);
        expect(summary((await rawValues(server.url, tag)).keys())).toEqual(NONE);
        expect(released).toBe(true);
      },
      FAULT_TEST_TIMEOUT_MS,
    );

    it(
      'a rate-limit window counts each call once: a first call is never over its limit',
      async () => {
        const cache = await open(await target());
        const tag = `rate-${randomUUID().slice(0, 8)}`;
        const refused: string[] = [];
        await underFaults({
          workers: WORKERS,
          rounds: ROUNDS,
          gapMs: GAP_MS,
          fault: inject,
          offline: offline(cache),
          op: async (n) => {
            const state = await engineOf(cache).fixedWindow(`${tag}:${n}`, 1, 60_000, 60_000);
            if (!state.allowed) refused.push(`${tag}:${n}`);
            return 'ok';
          },
        });
        expect(summary(refused)).toEqual(NONE);
        const counts = [...(await rawValues(server.url, tag)).values()];
        expect(counts.length).toBeGreaterThan(0);
        expect(summary(counts.filter((count) => count !== '1'))).toEqual(NONE);
      },
      FAULT_TEST_TIMEOUT_MS,
    );
  });
});
