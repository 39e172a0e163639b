/**
 * `@HitCache` on provider methods, inside a real Nest app, on mem:// and Redis db 8.
 * Every class name and key template here starts with "Hc" (see test/support/strategy-fixtures.ts).
 */
import { Injectable } from '@nestjs/common';
import { backgroundSettled, CacheDetect, HitCache, type CacheService } from '../../lib/index.js';
import {
  cleanup,
  closeApps,
  defaultKeyPattern,
  describeBackends,
  deferred,
  sleep,
  startApp,
  storedKey,
} from '../support/strategy-fixtures.js';

const TAG = 'Hc';

@Injectable()
class HcBoard {
  calls = 0;
  gate?: Promise<void>;

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

  @HitCache({ ttl: 300, cacheHits: 100 })
  async short(id: number) {
    this.calls++;
    return `${id}#${this.calls}`;
  }

  @HitCache({ ttl: '10s', cacheHits: 2 })
  async slow(id: number) {
    this.calls++;
    await sleep(20);
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

  it('expires after ttl even with hits left', async () => {
    expect(await svc.short(1)).toBe('1#1');
    expect(await svc.short(1)).toBe('1#1');
    await sleep(500);
    expect(await svc.short(1)).toBe('1#2');
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

  it('concurrent cold calls share one run', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => svc.slow(1)));
    expect(new Set(results)).toEqual(new Set(['1#1']));
    expect(svc.calls).toBe(1);
  });

  it('concurrent calls on an exhausted value recompute once', async () => {
    await svc.slow(1);
    await svc.slow(1);
    await svc.slow(1); // budget of 2 used up
    const results = await Promise.all(Array.from({ length: 20 }, () => svc.slow(1)));
    expect(svc.calls).toBe(2);
    expect(results.every((r) => r === '1#2')).toBe(true);
  });

  it('detection reports a hit with strategy hit', async () => {
    await svc.top(1);
    const { hits } = await CacheDetect.run(() => svc.top(1));
    expect(hits).toEqual([
      expect.objectContaining({ key: expect.stringMatching(defaultKeyPattern('HcBoard:top', '1')), strategy: 'hit' }),
    ]);
  });
});
