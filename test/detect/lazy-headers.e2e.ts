/**
 * Detection headers for hits of a provider loaded with LazyModuleLoader, called from a route handler: the headers
 * must say where the response came from as they do for a provider decorated at start-up.
 */
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { Controller, Get, Injectable, Module, Param } from '@nestjs/common';
import { LazyModuleLoader } from '@nestjs/core';
import request from 'supertest';
import { Cache } from '../../lib/index.js';
import { DetectHeadersMiddleware } from '../../lib/detect/detect-headers.middleware.js';
import { createTestApp, type AdapterName } from '../http/harness.js';

const RUN = `lh-${randomUUID().slice(0, 8)}`;

@Injectable()
class LazyPrices {
  runs = 0;

  @Cache({ ttl: '1m', key: `${RUN}:price:{id}` })
  async price(id: string): Promise<{ id: string; price: number }> {
    this.runs++;
    return { id, price: 10 };
  }
}

@Module({ providers: [LazyPrices] })
class LazyPricesModule {}

@Controller('lazy-prices')
class LazyPricesController {
  constructor(private readonly loader: LazyModuleLoader) {}

  @Get(':id')
  async get(@Param('id') id: string) {
    const ref = await this.loader.load(() => LazyPricesModule);
    return ref.get(LazyPrices).price(id);
  }
}

describe.each<AdapterName>(['express', 'fastify'])('detection headers of a lazily loaded provider (%s)', (adapter) => {
  it.each([{}, { globalInterceptors: true }])('a hit sets X-From-Cache (%j)', async (extra) => {
    const t = await createTestApp(
      { adapter, backend: 'mem', url: 'mem://' },
      { options: { detectHeaders: true, ...extra }, controllers: [LazyPricesController] },
    );
    try {
      const id = `p${randomUUID().slice(0, 8)}`; // never all digits, which a key would quote
      const cold = await request(t.server).get(`/lazy-prices/${id}`).expect(200);
      expect(cold.headers['x-from-cache']).toBeUndefined();
      const warm = await request(t.server).get(`/lazy-prices/${id}`).expect(200);
      expect(warm.body).toEqual({ id, price: 10 });
      expect(warm.headers['x-from-cache']).toBe(`${RUN}:price:${id}`);
    } finally {
      await t.close();
    }
  });
});

@Controller('plain-prices')
class PlainPricesController {
  @Get(':id')
  get(@Param('id') id: string) {
    return { id };
  }
}

describe('detection middleware of an application that never injects LazyModuleLoader', () => {
  // The middleware is mounted on every route only when something below a handler may report hits. The library's own
  // explorer injects the loader (to decorate what it loads): that is not the application's code holding it.
  it.each<AdapterName>(['express', 'fastify'])('is not mounted (%s)', async (adapter) => {
    const use = jest.spyOn(DetectHeadersMiddleware.prototype, 'use');
    const t = await createTestApp(
      { adapter, backend: 'mem', url: 'mem://' },
      { options: { detectHeaders: true }, controllers: [PlainPricesController] },
    );
    try {
      await request(t.server).get('/plain-prices/a').expect(200);
      expect(use.mock.calls.length).toBe(0);
    } finally {
      use.mockRestore();
      await t.close();
    }
  });
});
