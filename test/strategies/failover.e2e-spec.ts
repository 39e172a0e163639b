/**
 * `@Failover` on provider methods, inside a real Nest app, on mem:// and Redis db 8.
 * Every class name and key template here starts with "Fo" (see test/support/strategy-fixtures.ts).
 */
import { Injectable } from '@nestjs/common';
import { CacheDetect, Failover, type CacheService } from '../../lib/index.js';
import {
  cleanup,
  closeApps,
  defaultKeyPattern,
  describeBackends,
  rejection,
  sleep,
  startApp,
  storedKey,
} from '../support/strategy-fixtures.js';

const TAG = 'Fo';

/** Declared without setting `name`, as most application errors are. */
class FoUpstreamError extends Error {}
class FoOtherError extends Error {}

@Injectable()
class FoPrices {
  calls = 0;
  failWith?: Error;

  @Failover({ ttl: '10s' })
  async any(id: number) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return { id, n: this.calls };
  }

  @Failover({ ttl: '10s', exceptions: [FoUpstreamError] })
  async only(id: number) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return { id, n: this.calls };
  }

  @Failover({ ttl: 300 })
  async short(id: number) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return { id, n: this.calls };
  }

  @Failover({ ttl: '10s', exceptions: (error) => error instanceof Error && error.message.startsWith('retry') })
  async predicate(id: number) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return { id, n: this.calls };
  }

  @Failover({ ttl: '10s', key: 'FoKey:{id}', condition: 'notNullish' })
  async nullable(id: number, value: string | null) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return value;
  }
}

describeBackends('@Failover on a provider', ({ url }) => {
  let cache: CacheService;
  let svc: FoPrices;

  beforeEach(async () => {
    await cleanup(url, TAG);
    const started = await startApp(url, [FoPrices]);
    cache = started.cache;
    svc = started.app.get(FoPrices);
  });
  afterEach(closeApps);

  it('runs the method on every call and keeps the last success', async () => {
    expect(await svc.any(1)).toEqual({ id: 1, n: 1 });
    expect(await svc.any(1)).toEqual({ id: 1, n: 2 });
    expect(await svc.any(1)).toEqual({ id: 1, n: 3 });
    expect(svc.calls).toBe(3);
    expect(await cache.get(await storedKey(cache, 'FoPrices:any', '1'))).toEqual({ id: 1, n: 3 });
  });

  it('on failure answers the last success', async () => {
    await svc.any(1);
    await svc.any(1);
    svc.failWith = new FoUpstreamError('down');
    expect(await svc.any(1)).toEqual({ id: 1, n: 2 });
    expect(await svc.any(1)).toEqual({ id: 1, n: 2 });
    expect(svc.calls).toBe(4);
    svc.failWith = undefined;
    expect(await svc.any(1)).toEqual({ id: 1, n: 5 });
  });

  it('the fallback is per key: another argument with nothing stored rethrows', async () => {
    await svc.any(1);
    const error = new FoUpstreamError('down');
    svc.failWith = error;
    expect(await rejection(svc.any(2))).toBe(error);
  });

  it('with nothing stored the original error goes through', async () => {
    const error = new FoUpstreamError('down');
    svc.failWith = error;
    expect(await rejection(svc.any(1))).toBe(error);
    expect(svc.calls).toBe(1);
  });

  it('with exceptions: [FoUpstreamError], other errors go through', async () => {
    await svc.only(1);
    svc.failWith = new FoUpstreamError('down');
    expect(await svc.only(1)).toEqual({ id: 1, n: 1 });
    const other = new FoOtherError('bug');
    svc.failWith = other;
    expect(await rejection(svc.only(1))).toBe(other);
    expect(svc.calls).toBe(3);
  });

  it('exceptions may be a predicate', async () => {
    await svc.predicate(1);
    svc.failWith = new Error('retry later');
    expect(await svc.predicate(1)).toEqual({ id: 1, n: 1 });
    const fatal = new Error('fatal');
    svc.failWith = fatal;
    expect(await rejection(svc.predicate(1))).toBe(fatal);
  });

  it('the last success is kept for ttl only', async () => {
    await svc.short(1);
    await sleep(500);
    const error = new FoUpstreamError('down');
    svc.failWith = error;
    expect(await rejection(svc.short(1))).toBe(error);
  });

  it('condition: a null success is not kept, the previous one stays the fallback', async () => {
    expect(await svc.nullable(1, 'a')).toBe('a');
    expect(await svc.nullable(1, null)).toBeNull();
    expect(await cache.get('FoKey:1')).toBe('a');
    svc.failWith = new FoUpstreamError('down');
    expect(await svc.nullable(1, 'b')).toBe('a');
  });

  it('detection reports strategy failover, stale, and the error class name', async () => {
    await svc.any(1);
    svc.failWith = new FoUpstreamError('down');
    const { result, hits } = await CacheDetect.run(() => svc.any(1));
    expect(result).toEqual({ id: 1, n: 1 });
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({
      key: expect.stringMatching(defaultKeyPattern('FoPrices:any', '1')),
      strategy: 'failover',
      stale: true,
    });
    expect(hits[0].ttl).toBeGreaterThan(5_000);
    expect(hits[0].exception).toBe('FoUpstreamError');
  });

  it('detection reports the error name when the error class sets it', async () => {
    class FoNamedError extends Error {
      override name = 'FoNamedError';
    }
    await svc.any(1);
    svc.failWith = new FoNamedError('down');
    const { hits } = await CacheDetect.run(() => svc.any(1));
    expect(hits).toEqual([expect.objectContaining({ strategy: 'failover', exception: 'FoNamedError' })]);
  });

  it('detection reports nothing for a successful call', async () => {
    const { result, hits } = await CacheDetect.run(() => svc.any(1));
    expect(result).toEqual({ id: 1, n: 1 });
    expect(hits).toEqual([]);
  });
});
