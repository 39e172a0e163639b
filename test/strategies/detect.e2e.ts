/**
 * `CacheDetect.run` around decorated provider methods: real Nest app, mem:// and Redis db 8.
 * Every class name and key template here starts with "Dt" (see test/support/strategy-fixtures.ts).
 */
import { Injectable } from '@nestjs/common';
import { Cache, CacheDetect } from '../../lib/index.js';
import {
  cleanup,
  closeApps,
  defaultKeyPattern,
  deferred,
  describeBackends,
  startApp,
} from '../support/strategy-fixtures.js';

const TAG = 'Dt';

@Injectable()
class DtProducts {
  calls = 0;

  @Cache({ ttl: '10s' })
  async get(id: number) {
    this.calls++;
    return `${id}#${this.calls}`;
  }

  @Cache({ ttl: '10s', key: 'DtOuter:{id}' })
  async outer(id: number) {
    return [await this.get(id), await this.get(id + 100)];
  }
}

describeBackends('CacheDetect on a provider', ({ url }) => {
  let svc: DtProducts;

  beforeEach(async () => {
    await cleanup(url, TAG);
    const started = await startApp(url, [DtProducts]);
    svc = started.app.get(DtProducts);
  });
  afterEach(closeApps);

  it('a miss records nothing', async () => {
    const { result, hits } = await CacheDetect.run(() => svc.get(1));
    expect(result).toBe('1#1');
    expect(hits).toEqual([]);
  });

  it('a hit records key, strategy and the ttl left', async () => {
    await svc.get(1);
    const { result, hits } = await CacheDetect.run(() => svc.get(1));
    expect(result).toBe('1#1');
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({
      key: expect.stringMatching(defaultKeyPattern('DtProducts:get', '1')),
      strategy: 'cache',
    });
    expect(hits[0].ttl).toBeGreaterThan(9_000);
    expect(hits[0].ttl).toBeLessThanOrEqual(10_000);
    expect(hits[0].stale).toBeUndefined();
  });

  it('records every hit inside the scope, including nested methods', async () => {
    await svc.get(1);
    const { result, hits } = await CacheDetect.run(() => svc.outer(1));
    expect(result).toEqual(['1#1', '101#2']);
    expect(hits.map((h) => h.key)).toEqual([expect.stringMatching(defaultKeyPattern('DtProducts:get', '1'))]);
    const again = await CacheDetect.run(() => svc.outer(1));
    expect(again.hits.map((h) => h.key)).toEqual(['DtOuter:1']);
  });

  it('concurrent scopes stay separate', async () => {
    await svc.get(1);
    await svc.get(2);
    // Interleaved by hand-offs, not by timing: b's calls happen between a's two.
    const aFirst = deferred();
    const bDone = deferred();
    const [a, b] = await Promise.all([
      CacheDetect.run(async () => {
        await svc.get(1);
        aFirst.resolve();
        await bDone.promise;
        await svc.get(1);
        return 'a';
      }),
      CacheDetect.run(async () => {
        await aFirst.promise;
        await svc.get(2);
        await svc.get(3); // miss
        bDone.resolve();
        return 'b';
      }),
    ]);
    expect(a.hits.map((h) => h.key)).toEqual([
      expect.stringMatching(defaultKeyPattern('DtProducts:get', '1')),
      expect.stringMatching(defaultKeyPattern('DtProducts:get', '1')),
    ]);
    expect(b.hits.map((h) => h.key)).toEqual([expect.stringMatching(defaultKeyPattern('DtProducts:get', '2'))]);
  });

  it('nothing is recorded outside a scope', async () => {
    await svc.get(1);
    await svc.get(1);
    expect(CacheDetect.current()).toBeUndefined();
  });
});
