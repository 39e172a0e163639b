/**
 * Fault paths through the public CacheService, on Redis behind a ChaosBackend: a lost reply never makes a command
 * count twice, safe mode turns injected failures into logged misses, a lock whose reply was lost is released, and
 * rate limits count exactly what ran. Redis db 3 (flushed after each test).
 */
import { engineOf } from '../../lib/engine/engine-of.js';
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import {
  CacheBackendError,
  CacheService,
  RedisBackend,
  resolveCacheConfig,
  type CacheOptions,
} from '../../lib/index.js';
import { ChaosBackend, type ChaosBackendOptions } from '../../lib/backends/chaos.backend.js';
import { describeRedis, flushRedisDb, pollUntil, redisUrl } from '../support/redis.js';

const DB = 3;
const N = 300;

/**
 * `cache` talks to Redis through the chaos backend; `plain` shares its connection without faults, to read what
 * Redis really holds.
 */
interface Rig {
  chaos: ChaosBackend;
  cache: CacheService;
  plain: CacheService;
}

describeRedis('CacheService over a ChaosBackend on Redis', () => {
  const rigs: Rig[] = [];

  async function rig(options: ChaosBackendOptions, cacheOptions: CacheOptions = {}): Promise<Rig> {
    const url = redisUrl(DB);
    if (!url) throw new Error('Redis URL missing although the suite is not skipped');
    const config = resolveCacheConfig(url, cacheOptions);
    const inner = new RedisBackend(config);
    const chaos = new ChaosBackend(inner, options);
    const made = { chaos, cache: new CacheService(chaos, config), plain: new CacheService(inner, config) };
    rigs.push(made);
    await chaos.connect();
    return made;
  }

  afterEach(async () => {
    jest.restoreAllMocks();
    for (const { cache, plain } of rigs.splice(0)) {
      await cache.close();
      await plain.close();
    }
    await flushRedisDb(DB);
  });

  it(`${N} concurrent incr calls with lost replies: the counter holds exactly the increments that ran`, async () => {
    const { chaos, cache, plain } = await rig({
      seed: 11,
      failureRate: 0.2,
      dropRate: 0.3,
      latency: [0, 10],
      commands: ['incr'],
    });
    const results = await Promise.allSettled(Array.from({ length: N }, () => cache.incr('chaos:counter')));
    const counts = chaos.counts('incr');
    expect(counts.ran + counts.failed).toBe(N);
    expect(counts.failed).toBeGreaterThan(0);
    expect(counts.dropped).toBeGreaterThan(0);

    const rejected = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(rejected).toHaveLength(counts.failed + counts.dropped);
    expect(rejected.every((reason) => reason instanceof CacheBackendError)).toBe(true);
    const answers = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(new Set(answers).size).toBe(answers.length);
    expect(Math.max(...answers)).toBeLessThanOrEqual(counts.ran);

    // Nothing re-sent a command whose reply was lost, nothing counted twice.
    await expect(plain.incr('chaos:counter', 0)).resolves.toBe(counts.ran);
  });

  it('safe mode answers misses on injected failures, writes nothing, and logs', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const { chaos, cache, plain } = await rig({ failureRate: 1, commands: ['get', 'getMany', 'set'] });
    await plain.set('chaos:k', 'stored');
    await expect(cache.get('chaos:k')).resolves.toBeUndefined();
    await expect(cache.get('chaos:k', 'default')).resolves.toBe('default');
    await expect(cache.getMany(['chaos:k'])).resolves.toEqual([undefined]);
    await expect(cache.set('chaos:k', 'overwritten')).resolves.toBe(false);
    await expect(plain.get('chaos:k')).resolves.toBe('stored');
    expect(chaos.counts('get')).toEqual({ ran: 0, failed: 2, dropped: 0 });
    expect(chaos.counts('set')).toEqual({ ran: 0, failed: 1, dropped: 0 });
    const lines = warn.mock.calls.map((call) => String(call[0]));
    expect(lines.some((line) => /injected failure of get/.test(line) && /safe mode/.test(line))).toBe(true);
  });

  it('without safe mode an injected failure rejects with CacheBackendError', async () => {
    const { cache } = await rig({ failureRate: 1, commands: ['get'] }, { safe: false });
    await expect(cache.get('chaos:k')).rejects.toBeInstanceOf(CacheBackendError);
  });

  it('a lock whose reply was lost is released with its token long before its TTL', async () => {
    const { chaos, cache, plain } = await rig({ dropRate: 1, commands: ['setLock'] });
    await expect(cache.setLock('chaos:job', 'lost-token', '1m')).resolves.toBe(false);
    // The SET NX ran: the lock was taken although its taker was told the attempt failed.
    expect(chaos.counts('setLock')).toEqual({ ran: 1, failed: 0, dropped: 1 });
    expect(await pollUntil(async () => !(await plain.isLocked('chaos:job')), 10_000)).toBe(true);
    expect(chaos.counts('unlock').ran).toBeGreaterThanOrEqual(1);
    await expect(plain.setLock('chaos:job', 'next-token', '1m')).resolves.toBe(true);
  });

  it(`with latency, ${N} concurrent calls against a limit of 50 let exactly 50 through`, async () => {
    const { cache } = await rig({ seed: 3, latency: [0, 20] });
    const fixed = await Promise.all(
      Array.from({ length: N }, () => engineOf(cache).fixedWindow('chaos:fixed', 50, 60_000, 60_000)),
    );
    expect(fixed.filter((state) => state.allowed)).toHaveLength(50);
    const sliding = await Promise.all(
      Array.from({ length: N }, () => engineOf(cache).slidingWindow('chaos:sliding', 50, 60_000)),
    );
    expect(sliding.filter((state) => state.allowed)).toHaveLength(50);
  });

  it('with failures and lost replies, a rate-limit window counts every call that ran, once', async () => {
    const { chaos, cache, plain } = await rig({
      seed: 5,
      failureRate: 0.2,
      dropRate: 0.2,
      latency: [0, 10],
      commands: ['fixedWindow', 'slidingWindow'],
    });
    const limit = 1_000;
    // Safe mode answers the failed calls from per-process state: every call resolves.
    await Promise.all(
      Array.from({ length: N }, () => engineOf(cache).fixedWindow('chaos:rate', limit, 60_000, 60_000)),
    );
    await Promise.all(Array.from({ length: N }, () => engineOf(cache).slidingWindow('chaos:slide', limit, 60_000)));
    for (const command of ['fixedWindow', 'slidingWindow']) {
      const counts = chaos.counts(command);
      expect(counts.ran + counts.failed).toBe(N);
      expect(counts.failed).toBeGreaterThan(0);
      expect(counts.dropped).toBeGreaterThan(0);
    }
    const fixed = await engineOf(plain).fixedWindow('chaos:rate', limit, 60_000, 60_000);
    expect(fixed.remaining).toBe(limit - chaos.counts('fixedWindow').ran - 1);
    const sliding = await engineOf(plain).slidingWindow('chaos:slide', limit, 60_000);
    expect(sliding.remaining).toBe(limit - chaos.counts('slidingWindow').ran - 1);
  });
});
