/**
 * Caching errors (`cacheErrors`) beyond the shared storing scenarios (test/support/storing-scenarios.ts), on mem://
 * and Redis db 8: what a stored error may and may not turn into when read back (only a registered class extending
 * Error and listed by the decorator; fields never reach a prototype), how it composes with `@Failover`, its age in
 * detection, a class-level `@Cache` on a controller, and an error whose class was unregistered at run time.
 * Every class name and key template here starts with "Ce" (see test/support/strategy-fixtures.ts).
 */
import { jest } from '@jest/globals';
import { Controller, Get, Injectable, Logger, NotFoundException, Param } from '@nestjs/common';
import request from 'supertest';
import {
  Cache,
  CacheableClass,
  CacheDetect,
  Failover,
  registerCacheableClass,
  unregisterCacheableClass,
  type CacheService,
} from '../../lib/index.js';
import { classOf } from '../../lib/codec/class-registry.js';
import { StoredError } from '../../lib/strategies/cached-errors.js';
import { cleanup, closeApps, describeBackends, rejection, startApp } from '../support/strategy-fixtures.js';

const TAG = 'Ce';

@CacheableClass({ name: 'CeMissingError' })
class CeMissingError extends Error {
  constructor(readonly id: string) {
    super(`no item ${id}`);
  }
}

/** Registered, and an Error, but not listed by any decorator here. */
@CacheableClass({ name: 'CeOtherError' })
class CeOtherError extends Error {}

/** Registered, but not an Error: a stored error naming it must not become one. */
@CacheableClass({ name: 'CeMoney' })
class CeMoney {
  amount = 1;
}

/** Registered for one test, then unregistered before the method throws it. */
@CacheableClass({ name: 'CeFleetingError' })
class CeFleetingError extends Error {}

class CeUpstreamError extends Error {
  override name = 'CeUpstreamError';
}

registerCacheableClass(NotFoundException);

@Injectable()
class CeItems {
  calls = 0;
  failWith?: Error;

  private answer(id: string) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return { id, n: this.calls };
  }

  @Cache({ ttl: '10s', key: 'Ce:item:{id}', cacheErrors: [CeMissingError] })
  async item(id: string) {
    return this.answer(id);
  }

  @Cache({ ttl: '10s', key: 'Ce:short:{id}', cacheErrors: [CeMissingError], errorTtl: '2s' })
  async short(id: string) {
    return this.answer(id);
  }

  @Cache({ ttl: '10s', key: 'Ce:fleeting:{id}', cacheErrors: [CeFleetingError] })
  async fleeting(id: string) {
    return this.answer(id);
  }

  // Outermost first: Failover keeps the last success, Cache stores the 404s below it.
  @Failover({ ttl: '1h', key: 'Ce:last:{id}', exceptions: [CeUpstreamError] })
  @Cache({ ttl: '10s', key: 'Ce:stacked:{id}', cacheErrors: [CeMissingError] })
  async stacked(id: string) {
    return this.answer(id);
  }
}

/** A controller whose every GET handler is cached, 404s included. */
@Cache({ ttl: '10s', cacheErrors: [NotFoundException] })
@Controller('ce-catalogue')
class CeCatalogue {
  calls = 0;

  @Get(':id')
  async item(@Param('id') id: string) {
    this.calls++;
    if (id === 'missing') throw new NotFoundException(`no item ${id}`);
    return { id, n: this.calls };
  }
}

describeBackends('cached errors', ({ url }) => {
  let cache: CacheService;
  let items: CeItems;

  beforeEach(async () => {
    await cleanup(url, TAG);
    const started = await startApp(url, [CeItems]);
    cache = started.cache;
    items = started.app.get(CeItems);
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await closeApps();
  });

  /** A stored error as something other than the decorator could have written it (Redis holds the same encoding). */
  const forge = (name: string, type: object, fields: Record<string, unknown>) =>
    new StoredError(name, classOf(type)?.fingerprint ?? 'unknown', 'forged', fields);

  describe('only a registered class extending Error, listed by the decorator, is ever created', () => {
    it('a stored error naming an unregistered class, a non-Error class or an unlisted class reads as a miss', async () => {
      await cache.set('Ce:item:a', forge('CeNoSuchClass', CeMissingError, {}));
      await cache.set('Ce:item:b', forge('CeMoney', CeMoney, { amount: 2 }));
      await cache.set('Ce:item:c', forge('CeOtherError', CeOtherError, {}));
      await cache.set('Ce:item:d', forge('CeMissingError', CeMoney, {}));
      for (const id of ['a', 'b', 'c', 'd']) expect(await items.item(id)).toMatchObject({ id });
      expect(items.calls).toBe(4);
    });

    it('stored fields become own data properties: a "__proto__" field changes no prototype', async () => {
      const fields = JSON.parse('{"id":"p","__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}');
      await cache.set('Ce:item:p', forge('CeMissingError', CeMissingError, fields as Record<string, unknown>));
      const served = await rejection(items.item('p'));
      expect(items.calls).toBe(0);
      expect(served).toBeInstanceOf(CeMissingError);
      expect(Object.getPrototypeOf(served)).toBe(CeMissingError.prototype);
      expect(Object.hasOwn(served as object, '__proto__')).toBe(true);
      expect((served as { polluted?: unknown }).polluted).toBeUndefined();
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
      expect((CeMissingError.prototype as unknown as { x?: unknown }).x).toBeUndefined();
      expect((served as Error).message).toBe('forged');
    });
  });

  it('under @Failover, a stored error passes through when it is not among the failover exceptions', async () => {
    expect(await items.stacked('s')).toEqual({ id: 's', n: 1 });
    items.failWith = new CeMissingError('m');
    await rejection(items.stacked('m'));
    items.failWith = new CeUpstreamError('down');
    expect(await rejection(items.stacked('m'))).toBeInstanceOf(CeMissingError);
    expect(items.calls).toBe(2);
  });

  it("detection reports a stored error's name and its age from errorTtl", async () => {
    items.failWith = new CeMissingError('x');
    await rejection(items.short('x'));
    const { hits } = await CacheDetect.run(() => rejection(items.short('x')));
    expect(hits).toEqual([expect.objectContaining({ key: 'Ce:short:x', strategy: 'cache', error: 'CeMissingError' })]);
    expect(hits[0].ttl).toBeGreaterThan(1_000);
    expect(hits[0].ttl).toBeLessThanOrEqual(2_000);
    // Measured against the 2 s it was stored for, not the decorator's 10 s ttl.
    expect(hits[0].age).toBeLessThan(1_000);
  });

  it('an error whose class was unregistered since is not stored: thrown as it is, and logged once', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    unregisterCacheableClass(CeFleetingError);
    try {
      const error = new CeFleetingError('gone');
      items.failWith = error;
      expect(await rejection(items.fleeting('f'))).toBe(error);
      expect(await rejection(items.fleeting('f'))).toBe(error);
      expect(items.calls).toBe(2);
      expect(await cache.exists('Ce:fleeting:f')).toBe(false);
      const about = logged.mock.calls.map((call) => String(call[0])).filter((line) => line.includes('CeFleetingError'));
      expect(about).toHaveLength(1);
      expect(about[0]).toMatch(/@cache on CeItems\.fleeting: CeFleetingError was not stored.*registerCacheableClass/);
    } finally {
      registerCacheableClass(CeFleetingError, 'CeFleetingError');
    }
  });

  it('a class-level @Cache with cacheErrors stores the 404s of every GET handler', async () => {
    const started = await startApp(url, [], { controllers: [CeCatalogue] });
    const catalogue = started.app.get(CeCatalogue);
    const server = started.app.getHttpServer();
    const body = { statusCode: 404, error: 'Not Found', message: 'no item missing' };
    expect((await request(server).get('/ce-catalogue/missing').expect(404)).body).toEqual(body);
    expect((await request(server).get('/ce-catalogue/missing').expect(404)).body).toEqual(body);
    expect((await request(server).get('/ce-catalogue/1').expect(200)).body).toEqual({ id: '1', n: 2 });
    expect((await request(server).get('/ce-catalogue/1').expect(200)).body).toEqual({ id: '1', n: 2 });
    expect(catalogue.calls).toBe(2);
  });
});
