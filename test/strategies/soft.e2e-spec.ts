/**
 * `@Soft` on provider methods, inside a real Nest app, on mem:// and Redis db 8.
 * Every class name and key template here starts with "Sf" (see test/support/strategy-fixtures.ts).
 */
import { Injectable } from '@nestjs/common';
import { CacheDetect, Soft } from '../../lib/index.js';
import {
  cleanup,
  closeApps,
  defaultKeyPattern,
  describeBackends,
  rejection,
  sleep,
  startApp,
} from '../support/strategy-fixtures.js';

const TAG = 'Sf';

class SfUpstreamError extends Error {
  override name = 'SfUpstreamError';
}
class SfOtherError extends Error {}

@Injectable()
class SfRates {
  calls = 0;
  failWith?: Error;

  @Soft({ ttl: 1200, softTtl: 300 })
  async rates(id: number) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return `${id}#${this.calls}`;
  }

  @Soft({ ttl: '5s', softTtl: 300, exceptions: [SfUpstreamError] })
  async only(id: number) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return `${id}#${this.calls}`;
  }

  @Soft({ ttl: '5s', softTtl: '1s' })
  async nullish(kind: 'null' | 'undefined') {
    this.calls++;
    return kind === 'null' ? null : undefined;
  }

  @Soft({ ttl: '5s', softTtl: 300 })
  async slow(id: number) {
    this.calls++;
    await sleep(20);
    if (this.failWith) throw this.failWith;
    return `${id}#${this.calls}`;
  }
}

describeBackends('@Soft on a provider', ({ url }) => {
  let svc: SfRates;

  beforeEach(async () => {
    await cleanup(url, TAG);
    const started = await startApp(url, [SfRates]);
    svc = started.app.get(SfRates);
  });
  afterEach(closeApps);

  it('within softTtl: served from cache', async () => {
    expect(await svc.rates(1)).toBe('1#1');
    expect(await svc.rates(1)).toBe('1#1');
    await sleep(40);
    expect(await svc.rates(1)).toBe('1#1');
    expect(svc.calls).toBe(1);
  });

  it('after softTtl: recomputed in the call', async () => {
    expect(await svc.rates(1)).toBe('1#1');
    await sleep(500);
    expect(await svc.rates(1)).toBe('1#2');
    expect(await svc.rates(1)).toBe('1#2');
    expect(svc.calls).toBe(2);
  });

  it('a failing recompute serves the stale value (detected as stale) until ttl, then the error goes through', async () => {
    expect(await svc.rates(1)).toBe('1#1');
    await sleep(500);
    const error = new SfUpstreamError('down');
    svc.failWith = error;
    const { result, hits } = await CacheDetect.run(() => svc.rates(1));
    expect(result).toBe('1#1');
    expect(hits).toEqual([
      expect.objectContaining({
        key: expect.stringMatching(defaultKeyPattern('SfRates:rates', '1')),
        strategy: 'soft',
        stale: true,
        exception: 'SfUpstreamError',
      }),
    ]);
    expect(await svc.rates(1)).toBe('1#1');
    expect(svc.calls).toBe(3); // every stale answer tried to recompute
    await sleep(900);
    expect(await rejection(svc.rates(1))).toBe(error);
  });

  it('a successful recompute after failures stores the new value', async () => {
    await svc.rates(1);
    await sleep(500);
    svc.failWith = new SfUpstreamError('down');
    expect(await svc.rates(1)).toBe('1#1');
    svc.failWith = undefined;
    expect(await svc.rates(1)).toBe('1#3');
    expect(await svc.rates(1)).toBe('1#3');
  });

  it('with exceptions, other errors go through even with a stale value', async () => {
    await svc.only(1);
    await sleep(500);
    svc.failWith = new SfUpstreamError('down');
    expect(await svc.only(1)).toBe('1#1');
    const other = new SfOtherError('bug');
    svc.failWith = other;
    expect(await rejection(svc.only(1))).toBe(other);
  });

  it('with nothing stored the error goes through', async () => {
    const error = new SfUpstreamError('down');
    svc.failWith = error;
    expect(await rejection(svc.rates(1))).toBe(error);
  });

  it('concurrent stale callers share one failing recompute and all get the stale value', async () => {
    await svc.slow(1);
    await sleep(500);
    svc.failWith = new SfUpstreamError('down');
    const results = await Promise.all(Array.from({ length: 20 }, () => svc.slow(1)));
    expect(results.every((r) => r === '1#1')).toBe(true);
    expect(svc.calls).toBe(2);
  });

  it('null and undefined results are cached', async () => {
    expect(await svc.nullish('null')).toBeNull();
    expect(await svc.nullish('null')).toBeNull();
    expect(await svc.nullish('undefined')).toBeUndefined();
    expect(await svc.nullish('undefined')).toBeUndefined();
    expect(svc.calls).toBe(2);
  });

  it('detection reports a fresh hit as not stale', async () => {
    await svc.rates(1);
    const { hits } = await CacheDetect.run(() => svc.rates(1));
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({
      key: expect.stringMatching(defaultKeyPattern('SfRates:rates', '1')),
      strategy: 'soft',
    });
    expect(hits[0].stale).toBeUndefined();
  });
});
