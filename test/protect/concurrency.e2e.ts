/**
 * Protective decorators under concurrency, on mem:// and on Redis db 1 (flushed before and after this file),
 * through a real Nest application (provider methods): exact counts for 200 concurrent calls, one circuit,
 * validation at decoration time, and the safe-mode fallback to per-process state when Redis is unreachable.
 */
import { engineOf } from '../../lib/engine/engine-of.js';
import { Injectable, Logger } from '@nestjs/common';
import { jest } from '@jest/globals';
import {
  CashewsConfigError,
  CircuitBreaker,
  CircuitOpenError,
  createCache,
  PerfDegradation,
  RateLimit,
  RateLimitError,
  SlidingRateLimit,
  CacheBackendError,
} from '../../lib/index.js';
import { closeApps, startApp } from '../support/strategy-fixtures.js';
import {
  clusterUrl,
  describeCluster,
  flushRedisDb,
  freePort,
  redisSkipReason,
  redisUrl,
  sleep,
} from '../support/redis.js';

const DB = 1;
const cases = () => [
  { label: 'mem://', url: 'mem://' },
  ...(redisUrl() ? [{ label: 'redis db 1', url: redisUrl(DB)! }] : []),
];
if (!redisUrl()) describe.skip(`protective decorators on redis [${redisSkipReason()}]`, () => undefined);

class Upstream extends Error {}

@Injectable()
class Guarded {
  runs = 0;

  @RateLimit({ limit: 50, period: '1m' })
  async limited(): Promise<string> {
    this.runs++;
    return 'ok';
  }

  @SlidingRateLimit({ limit: 50, period: '1m' })
  async sliding(): Promise<string> {
    this.runs++;
    return 'ok';
  }

  @RateLimit({ limit: 2, period: '1m', key: 'per-user:{user}', action: (user: string) => `slow down ${user}` })
  async perUser(user: string): Promise<string> {
    return `hello ${user}`;
  }

  // 2 calls per 10 s; the first call over the limit bans for 300 ms, less than what is left of the window.
  @RateLimit({ limit: 2, period: '10s', ttl: '300ms' })
  async shortBan(): Promise<string> {
    this.runs++;
    return 'ok';
  }

  @CircuitBreaker({ errorsRate: 50, period: '1m', ttl: '1m', minCalls: 10, exceptions: [Upstream] })
  async flaky(fail: boolean): Promise<string> {
    this.runs++;
    if (fail) throw new Upstream('down');
    return 'ok';
  }
}

describe.each(cases())('protective decorators under concurrency on $label', ({ url }) => {
  beforeAll(() => (url.startsWith('redis') ? flushRedisDb(DB) : undefined));
  afterAll(() => (url.startsWith('redis') ? flushRedisDb(DB) : undefined));
  afterEach(() => closeApps());

  async function settle(calls: Array<Promise<unknown>>) {
    const results = await Promise.allSettled(calls);
    const passed = results.filter((r) => r.status === 'fulfilled').length;
    const limited = results.filter((r) => r.status === 'rejected' && r.reason instanceof RateLimitError).length;
    return { passed, limited };
  }

  it('@RateLimit: 200 concurrent calls with limit 50 let exactly 50 through', async () => {
    const { app } = await startApp(url, [Guarded]);
    const svc = app.get(Guarded);
    expect(await settle(Array.from({ length: 200 }, () => svc.limited()))).toEqual({ passed: 50, limited: 150 });
    expect(svc.runs).toBe(50);
  });

  it('@SlidingRateLimit: 200 concurrent calls with limit 50 let exactly 50 through', async () => {
    const { app } = await startApp(url, [Guarded]);
    const svc = app.get(Guarded);
    expect(await settle(Array.from({ length: 200 }, () => svc.sliding()))).toEqual({ passed: 50, limited: 150 });
    expect(svc.runs).toBe(50);
  });

  it('a key template limits per value; action answers over the limit', async () => {
    const { app } = await startApp(url, [Guarded]);
    const svc = app.get(Guarded);
    const answers = await Promise.all(['ann', 'ann', 'ann', 'bob'].map((u) => svc.perUser(u)));
    expect(answers).toEqual(['hello ann', 'hello ann', 'slow down ann', 'hello bob']);
  });

  it('@RateLimit: a ban shorter than the period does not start a fresh window inside the period', async () => {
    const { app } = await startApp(url, [Guarded]);
    const svc = app.get(Guarded);
    expect(await settle([svc.shortBan(), svc.shortBan(), svc.shortBan()])).toEqual({ passed: 2, limited: 1 });
    await sleep(500); // the ban is over, the 10 s window is not: its 2 calls are spent
    expect(await settle([svc.shortBan(), svc.shortBan(), svc.shortBan()])).toEqual({ passed: 0, limited: 3 });
    expect(svc.runs).toBe(2);
  });

  it('@CircuitBreaker: 200 concurrent failing calls open one circuit; then calls fail fast', async () => {
    const { app } = await startApp(url, [Guarded]);
    const svc = app.get(Guarded);
    await Promise.allSettled(Array.from({ length: 200 }, () => svc.flaky(true)));
    const runs = svc.runs;
    const error = await svc.flaky(false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as CircuitOpenError).retryAfter).toBeGreaterThan(50_000);
    expect(svc.runs).toBe(runs);
  });
});

describe.each(cases())('circuit half-open transitions on $label', ({ url }) => {
  it('open -> half-open: one trial; a failed trial re-opens, a successful one closes', async () => {
    const cache = await createCache(url);
    try {
      const key = `half-open:${process.pid}:${Date.now()}:circuit`;
      const s = { errorsRate: 100, period: 10_000, ttl: 300, minCalls: 1, halfOpenTtl: 2_000 };
      await engineOf(cache).circuit(key, 'fail', s);
      expect(await engineOf(cache).circuit(key, 'check', s)).toMatchObject({ state: 'open', allowed: false });
      await sleep(500);
      expect(await engineOf(cache).circuit(key, 'check', s)).toMatchObject({
        state: 'half-open',
        allowed: true,
        trial: true,
      });
      expect(await engineOf(cache).circuit(key, 'check', s)).toMatchObject({ state: 'half-open', allowed: false });
      await engineOf(cache).circuit(key, 'trial-fail', s);
      expect(await engineOf(cache).circuit(key, 'check', s)).toMatchObject({ state: 'open', allowed: false });
      await sleep(500);
      expect(await engineOf(cache).circuit(key, 'check', s)).toMatchObject({ trial: true });
      await engineOf(cache).circuit(key, 'trial-ok', s);
      expect(await engineOf(cache).circuit(key, 'check', s)).toMatchObject({
        state: 'closed',
        allowed: true,
        trial: false,
      });
      await cache.delete(key);
    } finally {
      await cache.close();
    }
  });
});

describe('protective decorator options are validated when the class is defined', () => {
  const define = (decorator: () => MethodDecorator) => () => {
    class Svc {
      m() {}
    }
    decorator()(Svc.prototype, 'm', Object.getOwnPropertyDescriptor(Svc.prototype, 'm')!);
  };
  it.each([
    ['limit 0', () => RateLimit({ limit: 0, period: '1s' })],
    ['limit 1.5', () => RateLimit({ limit: 1.5, period: '1s' })],
    ['bad period', () => RateLimit({ limit: 1, period: 'soon' })],
    ['zero ttl', () => RateLimit({ limit: 1, period: '1s', ttl: 0 })],
    ['unknown option', () => RateLimit({ limit: 1, period: '1s', perod: '1s' } as never)],
    ['action not a function', () => RateLimit({ limit: 1, period: '1s', action: 'x' } as never)],
    ['sliding limit 0', () => SlidingRateLimit({ limit: 0, period: '1s' })],
    ['errorsRate 0', () => CircuitBreaker({ errorsRate: 0, period: '1s', ttl: '1s' })],
    ['errorsRate 101', () => CircuitBreaker({ errorsRate: 101, period: '1s', ttl: '1s' })],
    ['minCalls 0', () => CircuitBreaker({ errorsRate: 50, period: '1s', ttl: '1s', minCalls: 0 })],
    ['bad halfOpenTtl', () => CircuitBreaker({ errorsRate: 50, period: '1s', ttl: '1s', halfOpenTtl: -1 })],
    [
      'exceptions not classes',
      () => CircuitBreaker({ errorsRate: 50, period: '1s', ttl: '1s', exceptions: 1 as never }),
    ],
    ['perf ttl missing', () => PerfDegradation({} as never)],
    ['traceSize 0', () => PerfDegradation({ ttl: '1s', traceSize: 0 })],
  ])('%s -> CashewsConfigError', (_name, decorator) => {
    expect(define(decorator)).toThrow(CashewsConfigError);
  });

  it('errorsRate 100 and fractional rates are accepted', () => {
    expect(define(() => CircuitBreaker({ errorsRate: 100, period: '1s', ttl: '1s' }))).not.toThrow();
    expect(define(() => CircuitBreaker({ errorsRate: 12.5, period: '1s', ttl: '1s' }))).not.toThrow();
  });
});

describe('safe mode: Redis unreachable', () => {
  afterEach(() => jest.restoreAllMocks());

  it('rate limit and circuit fall back to per-process memory state, with a log line', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const port = await freePort();
    const cache = await createCache(`redis://127.0.0.1:${port}/1?connect_timeout=200ms`);
    try {
      const states = [];
      for (let i = 0; i < 4; i++) states.push(await engineOf(cache).fixedWindow('down:rate', 2, 60_000, 60_000));
      expect(states.map((s) => s.allowed)).toEqual([true, true, false, false]);
      const sliding = [];
      for (let i = 0; i < 3; i++)
        sliding.push((await engineOf(cache).slidingWindow('down:sliding', 2, 60_000)).allowed);
      expect(sliding).toEqual([true, true, false]);
      const settings = { errorsRate: 50, period: 60_000, ttl: 60_000, minCalls: 1, halfOpenTtl: 0 };
      await engineOf(cache).circuit('down:circuit', 'fail', settings);
      expect((await engineOf(cache).circuit('down:circuit', 'check', settings)).state).toBe('open');
      const lines = warn.mock.calls.map((c) => String(c[0]));
      expect(lines.some((l) => /fixedWindow.*per-process memory state/.test(l))).toBe(true);
    } finally {
      await cache.close();
    }
  });

  it('without safe mode a backend failure throws CacheBackendError', async () => {
    const port = await freePort();
    const cache = await createCache(`redis://127.0.0.1:${port}/1?safe=0&connect_timeout=200ms`).catch((e) => e);
    // safe=0 fails bootstrap on an unreachable Redis; either way nothing is silently allowed.
    if (cache instanceof Error) {
      expect(cache).toBeInstanceOf(CacheBackendError);
      return;
    }
    try {
      await expect(engineOf(cache).fixedWindow('k', 1, 1000, 1000)).rejects.toBeInstanceOf(CacheBackendError);
    } finally {
      await cache.close();
    }
  });
});

describeCluster('protective primitives on Redis Cluster (single-key scripts)', () => {
  it('fixed window, sliding window and circuit work on any slot', async () => {
    const cache = await createCache(clusterUrl()!);
    try {
      const run = `${process.pid}-${Date.now()}`;
      for (const n of [1, 2, 3]) {
        const key = `protect:${run}:${n}`;
        const fixed = [];
        for (let i = 0; i < 3; i++)
          fixed.push((await engineOf(cache).fixedWindow(`${key}:rate`, 2, 5_000, 5_000)).allowed);
        expect(fixed).toEqual([true, true, false]);
        const sliding = [];
        for (let i = 0; i < 3; i++)
          sliding.push((await engineOf(cache).slidingWindow(`${key}:sliding`, 2, 5_000)).allowed);
        expect(sliding).toEqual([true, true, false]);
        const s = { errorsRate: 100, period: 5_000, ttl: 5_000, minCalls: 1, halfOpenTtl: 0 };
        await engineOf(cache).circuit(`${key}:circuit`, 'fail', s);
        expect((await engineOf(cache).circuit(`${key}:circuit`, 'check', s)).allowed).toBe(false);
        await expect(cache.resetProtection(`${key}:*`)).resolves.toBe(3);
      }
    } finally {
      await cache.close();
    }
  });
});
