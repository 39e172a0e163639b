/**
 * `@Early` on provider methods, inside a real Nest app, on mem:// and Redis db 8.
 * Every class name and key template here starts with "Er" (see test/support/strategy-fixtures.ts).
 */
import { Injectable } from '@nestjs/common';
import { backgroundSettled, CacheDetect, Early, type CacheService } from '../../lib/index.js';
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

const TAG = 'Er';

@Injectable()
class ErCatalogue {
  calls = 0;
  gate?: Promise<void>;
  failWith?: Error;

  @Early({ ttl: '2s', earlyTtl: 600 })
  async list(id: number) {
    this.calls++;
    if (this.gate) await this.gate;
    if (this.failWith) throw this.failWith;
    return `${id}#${this.calls}`;
  }

  @Early({ ttl: '2s', earlyTtl: '1s' })
  async nullish(kind: 'null' | 'undefined') {
    this.calls++;
    return kind === 'null' ? null : undefined;
  }

  @Early({ ttl: 300, earlyTtl: 100 })
  async short(id: number) {
    this.calls++;
    return `${id}#${this.calls}`;
  }

  @Early({ ttl: '2s', earlyTtl: 100, lock: true, step: 5 })
  async locked(id: number) {
    this.calls++;
    await sleep(20);
    return `${id}#${this.calls}`;
  }
}

describeBackends('@Early on a provider', ({ url }) => {
  let cache: CacheService;
  let svc: ErCatalogue;

  beforeEach(async () => {
    await cleanup(url, TAG);
    const started = await startApp(url, [ErCatalogue]);
    cache = started.cache;
    svc = started.app.get(ErCatalogue);
  });
  afterEach(async () => {
    await backgroundSettled();
    await closeApps();
  });

  it('before earlyTtl: served from cache, no refresh', async () => {
    expect(await svc.list(1)).toBe('1#1');
    expect(await svc.list(1)).toBe('1#1');
    await sleep(50);
    expect(await svc.list(1)).toBe('1#1');
    await backgroundSettled();
    expect(svc.calls).toBe(1);
  });

  it('after earlyTtl: the old value is answered at once and a background refresh stores a new one', async () => {
    expect(await svc.list(1)).toBe('1#1');
    await sleep(800);
    const gate = deferred();
    svc.gate = gate.promise;
    // Answers although the refresh is held open: the caller never waits for it.
    expect(await svc.list(1)).toBe('1#1');
    gate.resolve();
    svc.gate = undefined;
    await backgroundSettled();
    expect(svc.calls).toBe(2);
    expect(await svc.list(1)).toBe('1#2');
    expect(svc.calls).toBe(2);
    // The refreshed value is fresh again: no further refresh right away.
    await backgroundSettled();
    expect(svc.calls).toBe(2);
  });

  it('concurrent calls in the early window trigger one refresh', async () => {
    await svc.list(1);
    await sleep(800);
    const results = await Promise.all(Array.from({ length: 30 }, () => svc.list(1)));
    expect(results.every((r) => r === '1#1')).toBe(true);
    await backgroundSettled();
    expect(svc.calls).toBe(2);
    expect(await svc.list(1)).toBe('1#2');
  });

  it('sequential calls while a refresh runs trigger no second one', async () => {
    await svc.list(1);
    await sleep(800);
    const gate = deferred();
    svc.gate = gate.promise;
    for (let i = 0; i < 5; i++) expect(await svc.list(1)).toBe('1#1');
    gate.resolve();
    svc.gate = undefined;
    await backgroundSettled();
    expect(svc.calls).toBe(2);
  });

  it('a failed background refresh keeps the old value and lets the next call retry', async () => {
    await svc.list(1);
    await sleep(800);
    svc.failWith = new Error('upstream down');
    expect(await svc.list(1)).toBe('1#1');
    await backgroundSettled();
    expect(svc.calls).toBe(2);
    svc.failWith = undefined;
    expect(await svc.list(1)).toBe('1#1');
    await backgroundSettled();
    expect(svc.calls).toBe(3);
    expect(await svc.list(1)).toBe('1#3');
  });

  it('after the hard ttl the value is recomputed in the call', async () => {
    expect(await svc.short(1)).toBe('1#1');
    await sleep(500);
    expect(await svc.short(1)).toBe('1#2');
    expect(svc.calls).toBe(2);
  });

  it('with lock: true, concurrent cold calls run once', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => svc.locked(1)));
    expect(results.every((r) => r === '1#1')).toBe(true);
    expect(svc.calls).toBe(1);
  });

  it('null and undefined results are cached', async () => {
    expect(await svc.nullish('null')).toBeNull();
    expect(await svc.nullish('null')).toBeNull();
    expect(await svc.nullish('undefined')).toBeUndefined();
    expect(await svc.nullish('undefined')).toBeUndefined();
    expect(svc.calls).toBe(2);
  });

  it('stores an envelope under the default key and reports strategy early', async () => {
    await svc.list(1);
    expect(await cache.get(await storedKey(cache, 'ErCatalogue:list', '1'))).toEqual({
      v: '1#1',
      at: expect.any(Number),
    });
    const { result, hits } = await CacheDetect.run(() => svc.list(1));
    expect(result).toBe('1#1');
    expect(hits).toEqual([
      expect.objectContaining({
        key: expect.stringMatching(defaultKeyPattern('ErCatalogue:list', '1')),
        strategy: 'early',
      }),
    ]);
  });
});
