/**
 * `@HitCache` on provider methods, inside a real Nest app, on mem:// and Redis db 8: the storing scenarios every
 * storing strategy shares (test/support/storing-scenarios.ts), then the hit budget, which only `@HitCache` has.
 * Every class name and key template here starts with "Hc" (see test/support/strategy-fixtures.ts).
 */
import { jest } from '@jest/globals';
import { Injectable, Logger } from '@nestjs/common';
import {
  backgroundSettled,
  CacheableClass,
  CacheBackendError,
  ChaosBackend,
  HitCache,
  MemoryBackend,
  RedisBackend,
  registerBackend,
  resolveCacheConfig,
  type CacheService,
  type HitCacheDecoratorOptions,
} from '../../lib/index.js';
import { storingScenarios, type StoringStrategy } from '../support/storing-scenarios.js';
import {
  cleanup,
  closeApps,
  describeBackends,
  deferred,
  hasDefaultKey,
  heldCalls,
  rejection,
  startApp,
  storedKey,
} from '../support/strategy-fixtures.js';

const TAG = 'Hc';

const HIT: StoringStrategy = {
  name: 'hit',
  tag: TAG,
  serves: 'hit',
  envelope: false,
  hitCounter: true,
  stampedeLock: false,
  cacheErrors: true,
};

// A budget the shared scenarios never use up: they count on a stored value being served.
describeBackends('@HitCache: storing scenarios', ({ url }) =>
  storingScenarios(HIT, (options) => HitCache({ cacheHits: 100, ...options } as HitCacheDecoratorOptions), url),
);

/** Registered, so a stored one comes back as itself. */
@CacheableClass({ name: 'HcMissingError' })
class HcMissingError extends Error {}

@Injectable()
class HcBoard {
  calls = 0;
  gate?: Promise<void>;
  failWith?: Error;

  @HitCache({ ttl: '10s', cacheHits: 2, cacheErrors: [HcMissingError], onlyErrors: true })
  async missing(id: string) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return `${id}#${this.calls}`;
  }

  @HitCache({ ttl: '10s', cacheHits: 3 })
  async top(id: number) {
    this.calls++;
    return `${id}#${this.calls}`;
  }

  @HitCache({ ttl: '10s', cacheHits: 5, updateAfter: 2 })
  async warm(id: number) {
    this.calls++;
    if (this.gate) await this.gate;
    return `${id}#${this.calls}`;
  }

  @HitCache({ ttl: '10s', cacheHits: 2, updateAfter: 2 })
  async brief(id: number) {
    this.calls++;
    if (this.gate) await this.gate;
    return `${id}#${this.calls}`;
  }

  @HitCache({ ttl: '10s', cacheHits: 2 })
  async small(id: number) {
    this.calls++;
    if (this.gate) await this.gate;
    return `${id}#${this.calls}`;
  }
}

describeBackends('@HitCache on a provider', ({ url }) => {
  let cache: CacheService;
  let svc: HcBoard;

  beforeEach(async () => {
    await cleanup(url, TAG);
    const started = await startApp(url, [HcBoard]);
    cache = started.cache;
    svc = started.app.get(HcBoard);
  });
  afterEach(async () => {
    await backgroundSettled();
    await closeApps();
  });

  it('cacheHits 3: runs on call 1, serves calls 2-4, recomputes on call 5', async () => {
    const answers: string[] = [];
    for (let i = 0; i < 9; i++) answers.push(await svc.top(1));
    expect(answers).toEqual(['1#1', '1#1', '1#1', '1#1', '1#2', '1#2', '1#2', '1#2', '1#3']);
    expect(svc.calls).toBe(3);
  });

  it('each key has its own budget', async () => {
    await svc.top(1);
    await svc.top(2);
    await svc.top(1);
    await svc.top(2);
    expect(svc.calls).toBe(2);
    expect(await cache.get(`${await storedKey(cache, 'HcBoard:top', '1')}:hits`)).toBe(1);
    expect(await cache.get(`${await storedKey(cache, 'HcBoard:top', '2')}:hits`)).toBe(1);
  });

  it('updateAfter triggers exactly one background refresh; callers keep the old value meanwhile', async () => {
    expect(await svc.warm(1)).toBe('1#1');
    const gate = deferred();
    svc.gate = gate.promise;
    expect(await svc.warm(1)).toBe('1#1'); // hit 1
    expect(await svc.warm(1)).toBe('1#1'); // hit 2: starts the refresh
    expect(await svc.warm(1)).toBe('1#1'); // hit 3, refresh still running
    expect(svc.calls).toBe(2);
    gate.resolve();
    svc.gate = undefined;
    await backgroundSettled();
    expect(svc.calls).toBe(2);
    expect(await svc.warm(1)).toBe('1#2');
    expect(svc.calls).toBe(2);
  });

  it('the updateAfter refresh and a recompute of the used-up value share one run', async () => {
    expect(await svc.brief(1)).toBe('1#1');
    expect(await svc.brief(1)).toBe('1#1'); // hit 1
    const hits = `${await storedKey(cache, 'HcBoard:brief', '1')}:hits`;
    // Hit 2 starts the refresh (held at the gate); the call counted after it finds the budget used up meanwhile.
    const settled = await heldCalls(
      svc,
      2,
      () => svc.brief(1),
      async () => Number(await cache.get(hits)) >= 3 && svc.calls >= 2,
    );
    await backgroundSettled();
    expect(svc.calls).toBe(2);
    const answers = settled.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : outcome.reason));
    expect(answers.sort()).toEqual(['1#1', '1#2']);
  });

  it('concurrent calls on an exhausted value recompute once', async () => {
    await svc.small(1);
    await svc.small(1);
    await svc.small(1); // budget of 2 used up
    const hits = `${await storedKey(cache, 'HcBoard:small', '1')}:hits`;
    // Opened once every caller has drawn from the budget (the counter, shared by all, went past it for each)
    // and one of them runs the recompute.
    const settled = await heldCalls(
      svc,
      20,
      () => svc.small(1),
      async () => Number(await cache.get(hits)) >= 2 + 20 && svc.calls === 2,
    );
    expect(svc.calls).toBe(2);
    expect(settled.every((outcome) => outcome.status === 'fulfilled' && outcome.value === '1#2')).toBe(true);
  });

  it('a stored error is served cacheHits times like a result; with onlyErrors a success then removes it', async () => {
    svc.failWith = new HcMissingError('not yet');
    await rejection(svc.missing('a'));
    svc.failWith = undefined;
    expect(await rejection(svc.missing('a'))).toBeInstanceOf(HcMissingError);
    expect(await rejection(svc.missing('a'))).toBeInstanceOf(HcMissingError);
    expect(svc.calls).toBe(1);
    // Budget used up: the method runs, succeeds, and the error it replaces is gone (a success is not stored).
    expect(await svc.missing('a')).toBe('a#2');
    expect(await hasDefaultKey(cache, 'HcBoard:missing', 'a')).toBe(false);
    expect(await svc.missing('a')).toBe('a#3');
  });
});

/**
 * The same backend as `url` (a memory store or Redis db 8) behind a ChaosBackend whose `incr` always fails, as a
 * Redis timing out on that one command would: the hit counter cannot be read, everything else works.
 */
registerBackend('hcnoincr', (config) => {
  const [node] = config.hosts;
  const inner = node
    ? new RedisBackend(resolveCacheConfig(`redis://${node.host}:${node.port ?? 6379}/${config.path}`))
    : new MemoryBackend({ size: 1000, checkInterval: 0 });
  return new ChaosBackend(inner, { commands: ['incr'], failureRate: 1 });
});

@Injectable()
class HcCounted {
  calls = 0;

  @HitCache({ ttl: '10s', cacheHits: 5 })
  async value() {
    return ++this.calls;
  }
}

describeBackends('@HitCache whose hit counter fails', ({ url }) => {
  const chaosUrl = (query = '') => `${url.replace(/^(redis|mem):\/\//, 'hcnoincr://')}${query}`;

  beforeEach(() => cleanup(url, TAG));
  afterEach(async () => {
    jest.restoreAllMocks();
    await closeApps();
  });

  it('safe mode: an uncounted hit is a miss, logged once per burst like any failed command', async () => {
    const warned: string[] = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
      warned.push(String(message));
    });
    const { app } = await startApp(chaosUrl(), [HcCounted]);
    const svc = app.get(HcCounted);
    for (let i = 0; i < 3; i++) await svc.value();
    expect(svc.calls).toBe(3);
    expect(warned.filter((line) => /failed on incr/.test(line))).toHaveLength(1);
  });

  it('safe=0: the CacheBackendError of the hit counter reaches the caller', async () => {
    const { app } = await startApp(chaosUrl(url.includes('?') ? '&safe=0' : '?safe=0'), [HcCounted]);
    const svc = app.get(HcCounted);
    expect(await svc.value()).toBe(1); // a miss: stored without counting
    expect(await rejection(svc.value())).toBeInstanceOf(CacheBackendError);
    expect(svc.calls).toBe(1);
  });
});
