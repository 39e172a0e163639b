/**
 * `@Cache` timeouts with a stale fallback: `staleTtl` keeps a value past its ttl, `timeout` answers it when a
 * recompute is slow, `hardTimeout` fails a call with CacheTimeoutError; either way the run goes on in the background
 * and stores its result. Providers and a controller, on mem:// and Redis db 8; names start with "Cw".
 * The upstream is held by a gate, not slowed by a sleep: a caller that answers while it is held was answered by the
 * timeout.
 */
import { jest } from '@jest/globals';
import { Controller, Get, Injectable, Logger } from '@nestjs/common';
import request from 'supertest';
import {
  backgroundSettled,
  Cache,
  CacheDetect,
  CacheTimeoutError,
  CashewsConfigError,
  type CacheService,
} from '../../lib/index.js';
import {
  cleanup,
  closeApps,
  Gate,
  describeBackends,
  keysOf,
  rejection,
  sleep,
  startApp,
} from '../support/strategy-fixtures.js';

const TAG = 'Cw';
/** The `timeout` of the stale-answering methods, and what a caller answered by it may take beyond it at most. */
const TIMEOUT = 250;
const MARGIN = 350;

/** An upstream whose runs can be held (`gate`) until released, or made to fail. */
class Upstream {
  calls = 0;
  failWith?: Error;
  readonly gate = new Gate();

  protected async run(id: number): Promise<string> {
    const n = ++this.calls;
    await this.gate.wait();
    if (this.failWith) throw this.failWith;
    return `${id}#${n}`;
  }
}

@Injectable()
class CwQuotes extends Upstream {
  /** Fresh for 500 ms, then kept 1 min as a stale stand-in for a recompute slower than 250 ms. */
  @Cache({ ttl: 500, staleTtl: '1m', timeout: 250, key: 'CwQuote:{id}' })
  quote(id: number): Promise<string> {
    return this.run(id);
  }

  /** No stale value kept: a call waiting longer than 300 ms fails. */
  @Cache({ ttl: '1m', hardTimeout: 300, key: 'CwHard:{id}' })
  hard(id: number): Promise<string> {
    return this.run(id);
  }

  /**
   * An upstream that turned slow (1 s a run after a quick first one) behind a short ttl: every 300 ms of freshness
   * is followed by a slow refresh.
   */
  slowRuns = 0;
  @Cache({ ttl: 300, staleTtl: '1m', timeout: TIMEOUT, key: 'CwSlow' })
  async slow(): Promise<string> {
    const n = ++this.slowRuns;
    await sleep(n === 1 ? 0 : 1_000);
    return `slow#${n}`;
  }

  /** Both: the stale value at 250 ms when there is one, CacheTimeoutError at 700 ms when there is none. */
  @Cache({ ttl: 500, staleTtl: '1m', timeout: 250, hardTimeout: 700, key: 'CwBoth:{id}' })
  both(id: number): Promise<string> {
    return this.run(id);
  }
}

/** Default keys: an entry kept past its ttl is an envelope, so staleTtl is part of the key's version. */
@Injectable()
class CwDefaultKeys extends Upstream {
  @Cache({ ttl: 500, staleTtl: '1m', timeout: 250, version: 'v1' })
  withStale(id: number): Promise<string> {
    return this.run(id);
  }

  @Cache({ ttl: 500, version: 'v1' })
  plain(id: number): Promise<string> {
    return this.run(id);
  }
}

@Controller('cw')
class CwController extends Upstream {
  @Get('hard')
  @Cache({ ttl: '1m', hardTimeout: 300, key: 'CwHttpHard' })
  hardRoute(): Promise<string> {
    return this.run(1);
  }

  @Get('stale')
  @Cache({ ttl: 500, staleTtl: '1m', timeout: 250, key: 'CwHttpStale' })
  staleRoute(): Promise<string> {
    return this.run(1);
  }
}

describe('@Cache timeouts: options', () => {
  const decorate = (options: Record<string, unknown>) => () =>
    Cache({ ttl: '1m', ...options })({}, 'method', { value: () => undefined });

  it.each([
    [{ timeout: '200ms' }, /timeout answers a stale value, and none is kept without staleTtl/],
    [{ staleTtl: '10m' }, /staleTtl keeps values for timeout to answer .* no timeout is given/],
    [{ staleTtl: '10m', timeout: '1s', hardTimeout: '1s' }, /hardTimeout \(1000 ms\) must be longer than timeout/],
    [{ staleTtl: 'forever', timeout: '1s' }, /staleTtl/],
    [{ staleTtl: '10m', timeout: -5 }, /timeout/],
    [{ hardTimeout: {} }, /hardTimeout/],
    // A Node timer fires a longer delay after 1 ms: every call would time out at once.
    [{ hardTimeout: '30d' }, /"@Cache hardTimeout": 2592000000 ms .* at most 2147483647 ms \(about 24\.8 days/],
    [{ staleTtl: '10m', timeout: '25d' }, /"@Cache timeout": 2160000000 ms .* at most 2147483647 ms/],
  ])('%j is refused with a CashewsConfigError naming the option', (options, message) => {
    expect(decorate(options)).toThrow(CashewsConfigError);
    expect(decorate(options)).toThrow(message);
  });

  it('the longest delay a timer waits is accepted', () => {
    expect(decorate({ hardTimeout: 2 ** 31 - 1 })).not.toThrow();
    expect(decorate({ staleTtl: '30d', timeout: '24d' })).not.toThrow();
  });
});

describeBackends('@Cache timeouts', ({ url }) => {
  let cache: CacheService;
  let quotes: CwQuotes;
  let app: Awaited<ReturnType<typeof startApp>>['app'];

  beforeEach(async () => {
    await cleanup(url, TAG);
    ({ app, cache } = await startApp(url, [CwQuotes, CwDefaultKeys], { controllers: [CwController] }));
    quotes = app.get(CwQuotes);
  });
  afterEach(async () => {
    quotes.gate.release();
    app.get(CwController).gate.release();
    await backgroundSettled();
    await closeApps();
  });

  /** Stores a first value, then waits until it is past its 500 ms ttl (kept as a stale stand-in). */
  async function staleQuote(method: 'quote' | 'both' = 'quote'): Promise<void> {
    expect(await quotes[method](1)).toBe('1#1');
    await sleep(600);
  }

  it('before its ttl a value is a hit, with what is left of the ttl (not of staleTtl) reported', async () => {
    expect(await quotes.quote(1)).toBe('1#1');
    const { result, hits } = await CacheDetect.run(() => quotes.quote(1));
    expect(result).toBe('1#1');
    expect(quotes.calls).toBe(1);
    expect(hits).toEqual([expect.objectContaining({ key: 'CwQuote:1', strategy: 'cache' })]);
    expect(hits[0].ttl).toBeGreaterThan(0);
    expect(hits[0].ttl).toBeLessThanOrEqual(500);
    expect(hits[0].stale).toBeUndefined();
    // The entry itself stays for ttl + staleTtl.
    expect(await cache.getExpire('CwQuote:1')).toBeGreaterThan(59_000);
  });

  it('past its ttl, a recompute slower than timeout answers the stale value; the run stores its result later', async () => {
    await staleQuote();
    quotes.gate.hold();
    const { result, hits } = await CacheDetect.run(() => quotes.quote(1));
    // The upstream is still held: only the timeout can have answered.
    expect(result).toBe('1#1');
    expect(hits).toEqual([
      expect.objectContaining({ key: 'CwQuote:1', strategy: 'cache', stale: true, exception: 'CacheTimeoutError' }),
    ]);
    // Reported as expired, not as fresh for the rest of staleTtl: nothing left, older than its 500 ms ttl.
    expect(hits[0].ttl).toBe(0);
    expect(hits[0].age).toBeGreaterThanOrEqual(500);
    expect(quotes.calls).toBe(2);
    quotes.gate.release();
    await backgroundSettled();
    // The slow run finished in the background and stored its result: a fresh hit now.
    expect(await quotes.quote(1)).toBe('1#2');
    expect(quotes.calls).toBe(2);
  });

  it('a recompute faster than timeout answers its own result, not the stale one', async () => {
    await staleQuote();
    const { result, hits } = await CacheDetect.run(() => quotes.quote(1));
    expect(result).toBe('1#2');
    expect(hits).toEqual([]);
  });

  it('concurrent callers of a slow recompute all get the stale value, and the upstream runs once', async () => {
    await staleQuote();
    quotes.gate.hold();
    const started = performance.now();
    const latencies: number[] = [];
    const answers = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const answer = await quotes.quote(1);
        latencies.push(performance.now() - started);
        return answer;
      }),
    );
    expect(answers).toEqual(Array(50).fill('1#1'));
    expect(quotes.calls).toBe(2);
    // Bounded by the timeout, not by the upstream (still held forever).
    latencies.sort((a, b) => a - b);
    expect(latencies[Math.floor(latencies.length * 0.99)]).toBeLessThan(TIMEOUT + MARGIN);
  });

  it("sustained load on a 1 s upstream over several ttl cycles: each caller's p99 stays bounded by the timeout", async () => {
    expect(await quotes.slow()).toBe('slow#1'); // the first value, quick: from now on every run takes 1 s
    const start = performance.now();
    const end = start + 3_000;
    const callers = Array.from({ length: 4 }, async () => {
      const latencies: number[] = [];
      const seen = new Set<string>();
      for (let i = 0; i < 200 && performance.now() < end; i++) {
        const before = performance.now();
        seen.add(await quotes.slow());
        latencies.push(performance.now() - before);
        await sleep(40);
      }
      return { latencies: latencies.sort((a, b) => a - b), seen };
    });
    const results = await Promise.all(callers);
    for (const { latencies, seen } of results) {
      expect(latencies.length).toBeGreaterThan(20);
      expect(latencies[Math.floor(latencies.length * 0.99)]).toBeLessThan(TIMEOUT + MARGIN);
      // Refreshed values came through to every caller: the ttl cycled, callers were not answered one stale value.
      expect(seen.size).toBeGreaterThanOrEqual(2);
    }
    // 300 ms fresh + 1 s refresh: over 3 s at least two refreshes finished, and never more than one ran at a time
    // (each 1 s run is shared by every caller that finds the value stale).
    const all = new Set(results.flatMap(({ seen }) => [...seen]));
    expect(all.size).toBeGreaterThanOrEqual(3);
    expect(quotes.slowRuns).toBeLessThanOrEqual(1 + Math.ceil((performance.now() - start) / 1_300) + 1);
  });

  it('a background run that fails after the timeout is logged, not thrown; the stale value keeps answering', async () => {
    await staleQuote();
    quotes.gate.hold();
    quotes.failWith = new Error('upstream down');
    expect(await quotes.quote(1)).toBe('1#1');
    quotes.gate.release();
    await backgroundSettled();
    // Still stale, nothing stored by the failed run: the next slow recompute is answered by the timeout again.
    quotes.gate.hold();
    expect(await quotes.quote(1)).toBe('1#1');
    expect(quotes.calls).toBe(3);
  });

  it('a failing run that several callers timed out on is logged once', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      await staleQuote();
      quotes.gate.hold();
      quotes.failWith = new Error('upstream down');
      expect(await Promise.all([1, 2, 3, 4, 5].map(() => quotes.quote(1)))).toEqual(Array(5).fill('1#1'));
      quotes.gate.release();
      await backgroundSettled();
      expect(quotes.calls).toBe(2);
      const logged = warn.mock.calls.map(([message]) => String(message));
      expect(logged.filter((line) => line.startsWith('Background refresh of CwQuotes.quote failed'))).toHaveLength(1);
    } finally {
      warn.mockRestore();
    }
  });

  it('a failing recompute faster than timeout fails the call: staleTtl is no failover', async () => {
    await staleQuote();
    quotes.failWith = new Error('upstream down');
    expect(await rejection(quotes.quote(1))).toEqual(new Error('upstream down'));
  });

  it('hardTimeout without a stale value fails the call with CacheTimeoutError; the run still stores', async () => {
    quotes.gate.hold();
    const error = await rejection(quotes.hard(1));
    expect(error).toBeInstanceOf(CacheTimeoutError);
    expect(error).toMatchObject({ code: 'CASHEWS_TIMEOUT', timeout: 300, target: 'CwQuotes.hard' });
    quotes.gate.release();
    await backgroundSettled();
    expect(await quotes.hard(1)).toBe('1#1');
    expect(quotes.calls).toBe(1);
  });

  it('a run hanging past hardTimeout is not joined by later callers: they start their own', async () => {
    quotes.gate.hold();
    expect(await rejection(quotes.hard(7))).toBeInstanceOf(CacheTimeoutError);
    quotes.gate.letNewRunsThrough(); // the first run stays hung
    expect(await quotes.hard(7)).toBe('7#2');
  });

  it('timeout and hardTimeout: the stale value when there is one, CacheTimeoutError when there is none', async () => {
    await staleQuote('both');
    quotes.gate.hold();
    expect(await quotes.both(1)).toBe('1#1');
    expect(await rejection(quotes.both(2))).toBeInstanceOf(CacheTimeoutError);
  });

  it('a default key carries staleTtl in its version: a deploy without it never reads these envelopes', async () => {
    const service = app.get(CwDefaultKeys);
    await service.withStale(1);
    await service.plain(1);
    expect((await keysOf(cache, 'CwDefaultKeys*')).sort()).toEqual([
      'CwDefaultKeys:plain:vv1:1',
      'CwDefaultKeys:withStale:vv1-stale:1',
    ]);
  });

  it('on a controller: a stale body at the timeout, 504 at the hardTimeout', async () => {
    const controller = app.get(CwController);
    const server = app.getHttpServer();
    await request(server).get('/cw/stale').expect(200, '1#1');
    await sleep(600);
    controller.gate.hold();
    await request(server).get('/cw/stale').expect(200, '1#1');
    const timedOut = await request(server).get('/cw/hard').expect(504);
    expect(timedOut.body).toMatchObject({ statusCode: 504, error: 'CacheTimeoutError' });
  });
});
