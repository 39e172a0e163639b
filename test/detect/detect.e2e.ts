/**
 * Detection in code: `cache.detect(fn)` and `CacheDetect.current()` record what was served from cache,
 * nested scopes and concurrent requests stay separate; failover and soft report staleness and errors.
 */
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cache, CacheDetect, CacheService, CashewsModule, Failover, type CacheHit } from '../../lib/index.js';
import { describeRedis, flushRedisDb, redisUrl } from '../support/redis.js';

class UpstreamDown extends Error {
  override name = 'UpstreamDown';
}

@Injectable()
class Catalogue {
  down = false;

  @Cache({ ttl: '1m', key: 'det:item:{id}' })
  async item(id: number) {
    // A miss yields to the event loop, so that concurrent scopes interleave.
    await new Promise((resolve) => setImmediate(resolve));
    return { id };
  }

  @Failover({ ttl: '1m', key: 'det:price:{id}' })
  async price(id: number) {
    if (this.down) throw new UpstreamDown('down');
    return { id, cents: 100 };
  }

  async page(ids: number[]) {
    const seen: Array<readonly CacheHit[] | undefined> = [];
    const items = [];
    for (const id of ids) {
      items.push(await this.item(id));
      seen.push([...(CacheDetect.current() ?? [])]);
    }
    return { items, seen };
  }
}

for (const [name, url] of [
  ['mem', 'mem://'],
  ['redis', redisUrl(4)],
] as const) {
  const suite = name === 'redis' ? describeRedis : describe;
  suite(`cache.detect [${name}]`, () => {
    let app: INestApplicationContext;
    let cache: CacheService;
    let catalogue: Catalogue;

    beforeEach(async () => {
      if (name === 'redis') await flushRedisDb(4);
      @Module({ imports: [CashewsModule.forRoot(url as string)], providers: [Catalogue] })
      class AppModule {}
      app = await NestFactory.createApplicationContext(AppModule, { logger: false });
      cache = app.get(CacheService);
      catalogue = app.get(Catalogue);
    });
    afterEach(() => app.close());
    afterAll(() => (name === 'redis' ? flushRedisDb(4) : undefined));

    it('records key, strategy and remaining TTL of every value served from cache', async () => {
      const cold = await cache.detect(() => catalogue.item(1));
      expect(cold).toEqual({ result: { id: 1 }, hits: [] });
      const warm = await cache.detect(() => catalogue.item(1));
      expect(warm.hits).toHaveLength(1);
      expect(warm.hits[0]).toMatchObject({ key: 'det:item:1', strategy: 'cache' });
      expect(warm.hits[0].ttl).toBeGreaterThan(55_000);
      expect(warm.hits[0].age).toBeLessThan(5_000);
      expect(CacheDetect.current()).toBeUndefined();
    });

    it('records the exception a failover value stood in for, marked stale', async () => {
      await catalogue.price(1);
      catalogue.down = true;
      const { result, hits } = await cache.detect(() => catalogue.price(1));
      expect(result).toEqual({ id: 1, cents: 100 });
      expect(hits).toEqual([
        expect.objectContaining({ key: 'det:price:1', strategy: 'failover', stale: true, exception: 'UpstreamDown' }),
      ]);
    });

    it('keeps nested scopes apart: the inner sees its own hits, the outer sees everything', async () => {
      await catalogue.item(1);
      await catalogue.item(2);
      const outer = await cache.detect(async () => {
        await catalogue.item(1);
        const inner = await cache.detect(() => catalogue.item(2));
        return inner.hits.map((hit) => hit.key);
      });
      expect(outer.result).toEqual(['det:item:2']);
      expect(outer.hits.map((hit) => hit.key)).toEqual(['det:item:1', 'det:item:2']);
    });

    it('keeps concurrent scopes apart', async () => {
      await Promise.all([1, 2, 3, 4].map((id) => catalogue.item(id)));
      const runs = await Promise.all(
        [1, 2, 3, 4, 5].map((id) => cache.detect(() => catalogue.page(id === 5 ? [1, 5] : [id, id]))),
      );
      for (const [i, run] of runs.entries()) {
        const id = i + 1;
        const expected = id === 5 ? ['det:item:1'] : [`det:item:${id}`, `det:item:${id}`];
        expect(run.hits.map((hit) => hit.key)).toEqual(expected);
        // CacheDetect.current() inside the scope saw only this scope's hits so far.
        expect(run.result.seen.at(-1)?.map((hit) => hit.key)).toEqual(expected);
      }
    });
  });
}
