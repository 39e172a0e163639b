/**
 * `@Failover` on provider methods, inside a real Nest app, on mem:// and Redis db 8: the storing scenarios every
 * storing strategy shares (test/support/storing-scenarios.ts), then which errors fall back, which only
 * `@Failover` (and `@Soft`, in its own file) decides.
 * Every class name and key template here starts with "Fo" (see test/support/strategy-fixtures.ts).
 */
import { Injectable } from '@nestjs/common';
import { CacheDetect, Failover, type CacheService } from '../../lib/index.js';
import { storingScenarios, type StoringStrategy } from '../support/storing-scenarios.js';
import { cleanup, closeApps, describeBackends, rejection, startApp } from '../support/strategy-fixtures.js';

const TAG = 'Fo';

const FAILOVER: StoringStrategy = {
  name: 'failover',
  tag: TAG,
  serves: 'fallback',
  envelope: false,
  hitCounter: false,
  stampedeLock: false,
  cacheErrors: false,
};

describeBackends('@Failover: storing scenarios', ({ url }) =>
  storingScenarios(FAILOVER, (options) => Failover(options), url),
);

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

  it('on failure answers the last success, as long as it fails; the next success replaces it', async () => {
    await svc.any(1);
    await svc.any(1);
    svc.failWith = new FoUpstreamError('down');
    expect(await svc.any(1)).toEqual({ id: 1, n: 2 });
    expect(await svc.any(1)).toEqual({ id: 1, n: 2 });
    expect(svc.calls).toBe(4);
    svc.failWith = undefined;
    expect(await svc.any(1)).toEqual({ id: 1, n: 5 });
    svc.failWith = new FoUpstreamError('down again');
    expect(await svc.any(1)).toEqual({ id: 1, n: 5 });
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

  it('condition: a null success is not kept, the previous one stays the fallback', async () => {
    expect(await svc.nullable(1, 'a')).toBe('a');
    expect(await svc.nullable(1, null)).toBeNull();
    expect(await cache.get('FoKey:1')).toBe('a');
    svc.failWith = new FoUpstreamError('down');
    expect(await svc.nullable(1, 'b')).toBe('a');
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
});
