/**
 * @Failover, @HitCache, @Early (also with `background: false`), @Soft and @Locked on controller handlers, over Express and Fastify, on
 * mem:// and Redis (db 10, keys under `hs:`). One focused behaviour each, counted by handler executions.
 */
import { jest } from '@jest/globals';
import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import request from 'supertest';
import { backgroundSettled, Early, Failover, HitCache, Locked, Soft } from '../../lib/index.js';
import {
  allCases,
  clearPrefix,
  Counter,
  createTestApp,
  describeCases,
  keysUnder,
  sleep,
  type TestApp,
} from './harness.js';
import { fakeClocks } from '../support/strategy-fixtures.js';
import { pollUntil } from '../support/redis.js';

const PREFIX = 'hs';
const calls = new Counter();
/** Handlers whose next execution must throw. */
const failing = new Set<string>();
/** Holds the @Early handler open while set: its background refresh is then still running. */
let earlyGate: Promise<void> | undefined;

function run(name: string): { n: number } {
  const n = calls.hit(name);
  if (failing.has(name)) throw new ServiceUnavailableException(`${name} is down`);
  return { n };
}

@Controller('s')
class StrategyController {
  @Get('failover')
  @Failover({ ttl: '1m', prefix: PREFIX })
  failover() {
    return run('failover');
  }

  @Get('hits')
  @HitCache({ ttl: '1m', cacheHits: 2, prefix: PREFIX })
  hits() {
    return run('hits');
  }

  @Get('early')
  // 1.5 s: the first two requests must both land inside the window, also on a loaded CI machine.
  @Early({ ttl: '1m', earlyTtl: '1500ms', prefix: PREFIX })
  async early() {
    const result = run('early');
    if (earlyGate) await earlyGate;
    return result;
  }

  /** The request that wins the refresh waits for it (the Date clock is faked to age the entry). */
  @Get('early-wait')
  @Early({ ttl: '1m', earlyTtl: '30s', background: false, prefix: PREFIX })
  async earlyWait() {
    const result = run('earlyWait');
    if (earlyGate) await earlyGate;
    return result;
  }

  @Get('soft')
  // As for @Early: a window wide enough for two requests on a loaded machine.
  @Soft({ ttl: '1m', softTtl: '1500ms', prefix: PREFIX })
  soft() {
    return run('soft');
  }

  @Get('locked')
  @Locked({ key: 'job', prefix: PREFIX, wait: false })
  async locked() {
    const result = run('locked');
    await sleep(400);
    return result;
  }
}

describeCases('strategy decorators on controllers', allCases(), (c) => {
  let t: TestApp;

  beforeEach(async () => {
    calls.reset();
    failing.clear();
    earlyGate = undefined;
    await clearPrefix(c.url, PREFIX);
    t = await createTestApp(c, { controllers: [StrategyController] });
  });

  afterEach(async () => {
    jest.useRealTimers();
    await backgroundSettled();
    await t?.close();
    await clearPrefix(c.url, PREFIX);
  });

  const body = (path: string) =>
    request(t.server)
      .get(path)
      .expect(200)
      .then((res) => res.body as { n: number });

  it('@Failover: the handler throws after a success -> 200 with the last good body', async () => {
    // Nothing stored yet: the handler's own error goes through.
    failing.add('failover');
    await request(t.server).get('/s/failover').expect(503);
    failing.clear();
    expect(await body('/s/failover')).toEqual({ n: 2 });
    expect(await body('/s/failover')).toEqual({ n: 3 }); // failover always runs the handler
    failing.add('failover');
    expect(await body('/s/failover')).toEqual({ n: 3 });
    expect(calls.get('failover')).toBe(4);
  });

  it('@HitCache: one stored body serves cacheHits requests, then the handler runs again', async () => {
    expect(await body('/s/hits')).toEqual({ n: 1 });
    expect(await body('/s/hits')).toEqual({ n: 1 });
    expect(await body('/s/hits')).toEqual({ n: 1 });
    expect(calls.get('hits')).toBe(1);
    expect(await body('/s/hits')).toEqual({ n: 2 });
    expect(calls.get('hits')).toBe(2);
  });

  it('@Early: in the early window the old body is served and the handler refreshes once in the background', async () => {
    expect(await body('/s/early')).toEqual({ n: 1 });
    expect(await body('/s/early')).toEqual({ n: 1 });
    expect(calls.get('early')).toBe(1);
    await sleep(1_700);
    // The refresh is held open while the early requests answer: they never wait for it.
    let release!: () => void;
    earlyGate = new Promise<void>((resolve) => (release = resolve));
    try {
      const early = await Promise.all([body('/s/early'), body('/s/early'), body('/s/early')]);
      expect(early).toEqual([{ n: 1 }, { n: 1 }, { n: 1 }]);
    } finally {
      earlyGate = undefined;
      release();
    }
    await backgroundSettled();
    expect(calls.get('early')).toBe(2);
    expect(await body('/s/early')).toEqual({ n: 2 });
    expect(calls.get('early')).toBe(2);
  });

  it('@Early({ background: false }): the request that wins the refresh waits for it, the others do not', async () => {
    fakeClocks('Date');
    expect(await body('/s/early-wait')).toEqual({ n: 1 });
    expect(await body('/s/early-wait')).toEqual({ n: 1 });
    jest.setSystemTime(Date.now() + 31_000); // past earlyTtl
    // A refresh that fails: the waiting request answers the current body, not the error, and releases the refresh.
    failing.add('earlyWait');
    expect(await body('/s/early-wait')).toEqual({ n: 1 });
    expect(calls.get('earlyWait')).toBe(2);
    failing.clear();
    let release!: () => void;
    earlyGate = new Promise<void>((resolve) => (release = resolve));
    try {
      let answered = false;
      const winner = body('/s/early-wait').finally(() => (answered = true));
      expect(await pollUntil(async () => calls.get('earlyWait') === 3, 5_000, 5)).toBe(true);
      // While the winner's refresh is held, other requests get the current body at once; the winner waits.
      expect(await Promise.all([body('/s/early-wait'), body('/s/early-wait')])).toEqual([{ n: 1 }, { n: 1 }]);
      expect(answered).toBe(false);
      release();
      expect(await winner).toEqual({ n: 3 });
    } finally {
      earlyGate = undefined;
      release();
    }
    expect(await body('/s/early-wait')).toEqual({ n: 3 });
    expect(calls.get('earlyWait')).toBe(3);
  });

  it('@Soft: fresh until softTtl, then recomputed; a failing recompute answers the stale body', async () => {
    expect(await body('/s/soft')).toEqual({ n: 1 });
    expect(await body('/s/soft')).toEqual({ n: 1 });
    expect(calls.get('soft')).toBe(1);
    await sleep(1_700);
    failing.add('soft');
    expect(await body('/s/soft')).toEqual({ n: 1 });
    expect(calls.get('soft')).toBe(2);
    failing.clear();
    expect(await body('/s/soft')).toEqual({ n: 3 });
    expect(await body('/s/soft')).toEqual({ n: 3 });
    expect(calls.get('soft')).toBe(3);
  });

  it('@Locked({ wait: false }): a concurrent second request fails and the handler runs once', async () => {
    const [a, b] = await Promise.all([request(t.server).get('/s/locked'), request(t.server).get('/s/locked')]);
    const statuses = [a.status, b.status].sort();
    expect(statuses[0]).toBe(200);
    expect(statuses[1]).not.toBe(200);
    expect(statuses[1]).toBeGreaterThanOrEqual(400);
    expect(calls.get('locked')).toBe(1);
    // Released afterwards: the next request runs.
    expect(await body('/s/locked')).toEqual({ n: 2 });
    expect(await keysUnder(t.cache, PREFIX)).toEqual([]);
  });
});
