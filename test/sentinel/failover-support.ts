/**
 * What the two Sentinel failover suites share (failover.e2e-spec.ts, and failover-wait-replicas.e2e.ts in
 * sentinel.e2e-spec.ts: in two Jest files, so that Jest runs them side by side; each takes some 20 s, mostly waiting
 * on Sentinel): traffic of
 * many callers writing fresh keys, the check of acknowledged writes on a server, and the deployment per test.
 */
import { randomUUID } from 'node:crypto';
import { CacheBackendError, createCache, type CacheService } from '../../lib/index.js';
import { within, summary, NONE } from '../faults/fault-support.js';
import { describeRedisServer, pollUntil, rawRedis, sleep, type RedisServerHandle } from '../support/redis.js';
import { startSentinelDeployment, type SentinelDeployment } from '../support/sentinel.js';

const WORKERS = 40;
export const TEST_TIMEOUT_MS = 90_000;

export interface Traffic {
  /** Keys whose `set` answered true or whose `incr` answered, with when the answer came. */
  acknowledged: Array<{ key: string; at: number; value: string }>;
  /** Anything thrown other than a CacheBackendError by `incr`. */
  unexpected: unknown[];
  calls: number;
  stop(): Promise<void>;
}

/** Fresh keys only: a lost write shows as a missing key, a doubled incr as a value other than 1. */
function startTraffic(cache: CacheService, marker: string): Traffic {
  let stopped = false;
  const traffic: Omit<Traffic, 'stop'> = { acknowledged: [], unexpected: [], calls: 0 };
  const loops = Array.from({ length: WORKERS }, async (_, worker) => {
    for (let i = 0; !stopped; i++) {
      const key = `${marker}:${worker}:${i}`;
      traffic.calls += 1;
      try {
        if (i % 2 === 0) {
          const value = await cache.incr(`${key}:n`);
          if (value !== 1) traffic.unexpected.push(new Error(`incr of a fresh key answered ${value}`));
          traffic.acknowledged.push({ key: `${key}:n`, at: Date.now(), value: '1' });
        } else if (await cache.set(`${key}:s`, 'v')) {
          traffic.acknowledged.push({ key: `${key}:s`, at: Date.now(), value: 'v' });
        }
      } catch (error) {
        if (!(i % 2 === 0 && error instanceof CacheBackendError)) traffic.unexpected.push(error);
      }
      try {
        // A read in safe mode answers, whatever happens: a value or a miss.
        await cache.get(`${key}:s`);
      } catch (error) {
        traffic.unexpected.push(error);
      }
      await sleep(10);
    }
  });
  return {
    ...traffic,
    get calls() {
      return traffic.calls;
    },
    async stop() {
      stopped = true;
      await within(Promise.all(loops), 20_000, 'traffic loops');
    },
  };
}

/** The keys of `wanted` missing (or with another value) on the server, read through a raw connection. */
export async function missingOn(server: RedisServerHandle, wanted: Traffic['acknowledged']): Promise<string[]> {
  const raw = rawRedis(server.url);
  try {
    const missing: string[] = [];
    for (let i = 0; i < wanted.length; i += 500) {
      const batch = wanted.slice(i, i + 500);
      const values = await raw.mget(...batch.map((entry) => entry.key));
      batch.forEach((entry, j) => {
        const value = values[j];
        // `set` values are encoded by the codec: only their presence is compared.
        const ok = entry.value === '1' ? value === '1' : value !== null;
        if (!ok) missing.push(`${entry.key}=${value}`);
      });
    }
    return missing;
  } finally {
    raw.disconnect();
  }
}

/** The context a failover test gets: its deployment, a cache factory and the failover under traffic. */
export interface FailoverContext {
  deployment(): SentinelDeployment;
  open(url: string): Promise<CacheService>;
  failoverUnderTraffic(d: SentinelDeployment, cache: CacheService): Promise<{ traffic: Traffic; followedAt: number }>;
}

/** A describe block with a fresh Sentinel deployment per test (a failover changes it for good). */
export function describeFailover(title: string, body: (context: FailoverContext) => void): void {
  describeRedisServer(title, () => {
    let deployment: SentinelDeployment | undefined;
    const caches: CacheService[] = [];

    beforeEach(async () => {
      deployment = await startSentinelDeployment();
      await deployment.ready();
    }, 60_000);
    afterEach(async () => {
      await Promise.all(caches.splice(0).map((cache) => within(cache.close(), 5_000, 'close').catch(() => undefined)));
      await deployment?.stop();
      deployment = undefined;
      // No unhandled rejection: Jest fails the test during which one occurs (its own process sees them; a listener on
      // this environment's `process` never fires, so the check that used to stand here could not fail).
    });

    async function open(url: string): Promise<CacheService> {
      const cache = await within(createCache(url), 10_000, 'createCache');
      caches.push(cache);
      return cache;
    }

    /**
     * Runs traffic, fails over, and waits until a write made through `cache` is found on the new master; answers the
     * traffic (stopped) and when the client was seen there.
     */
    async function failoverUnderTraffic(
      d: SentinelDeployment,
      cache: CacheService,
    ): Promise<{ traffic: Traffic; followedAt: number }> {
      const marker = randomUUID().slice(0, 8);
      const traffic = startTraffic(cache, marker);
      let followedAt = 0;
      try {
        await sleep(500);
        const newMaster = await d.failover();
        expect(newMaster).toBe(d.second.port);
        // The client follows: a probe written through it lands on the new master (bounded wait).
        const probe = rawRedis(d.second.url);
        try {
          const followed = await pollUntil(
            async () => {
              const key = `${marker}:probe:${Date.now()}`;
              if (!(await cache.set(key, 'p'))) return false;
              return (await probe.exists(key)) === 1;
            },
            30_000,
            100,
          );
          expect(followed).toBe(true);
          followedAt = Date.now();
        } finally {
          probe.disconnect();
        }
        await sleep(500);
      } finally {
        await traffic.stop();
      }
      expect(summary(traffic.unexpected)).toEqual(NONE);
      // ROLE: the Sentinel's choice is what the servers say.
      expect(await d.role(d.second)).toBe('master');
      return { traffic, followedAt };
    }

    body({ deployment: () => deployment as SentinelDeployment, open, failoverUnderTraffic });
  });
}
