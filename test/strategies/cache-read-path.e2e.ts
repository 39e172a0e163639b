/**
 * The read path of a `@Cache` call that no detection scope listens to, on mem:// and Redis db 8: the executor reads
 * the key itself and answers a hit without the strategy (at once on memory, in the read's continuation on Redis), and
 * hands a miss, a stored error or anything else it cannot serve as stored to the strategy with the read it made. What
 * must hold either way: one backend read per call (the miss's included), exact call and hit counts, the method run
 * once per miss, a stored error thrown again, each concurrent caller answered its own value.
 * Every class name and key template here starts with "Cr" (see test/support/strategy-fixtures.ts).
 */
import { Injectable } from '@nestjs/common';
import { Cache, CacheableClass, type CacheService } from '../../lib/index.js';
import { cleanup, closeApps, describeBackends, readsOf, rejection, startApp } from '../support/strategy-fixtures.js';

const TAG = 'Cr';

@CacheableClass({ name: 'CrGoneError' })
class CrGoneError extends Error {}

@Injectable()
class CrItems {
  runs = 0;
  gone = new Set<number>();

  @Cache({ ttl: '10s', key: 'Cr:item:{id}', cacheErrors: [CrGoneError] })
  async item(id: number) {
    this.runs++;
    if (this.gone.has(id)) throw new CrGoneError(`item ${id} is gone`);
    return { id, run: this.runs };
  }
}

function countsOf(cache: CacheService) {
  const method = cache.stats().methods.find((m) => m.method === 'CrItems.item');
  return { calls: method?.calls, hits: method?.hits, reads: readsOf(cache) };
}

describeBackends('@Cache read path without a detection scope', ({ url }) => {
  let cache: CacheService;
  let items: CrItems;

  beforeEach(async () => {
    await cleanup(url, TAG);
    const started = await startApp(url, [CrItems]);
    cache = started.cache;
    items = started.app.get(CrItems);
  });
  afterEach(() => closeApps());

  it('a miss runs the method once from the read it made; each hit is one read, counted as a call and a hit', async () => {
    await expect(items.item(1)).resolves.toEqual({ id: 1, run: 1 });
    expect(countsOf(cache)).toEqual({ calls: 1, hits: 0, reads: 1 });
    await expect(items.item(1)).resolves.toEqual({ id: 1, run: 1 });
    await expect(items.item(1)).resolves.toEqual({ id: 1, run: 1 });
    expect(countsOf(cache)).toEqual({ calls: 3, hits: 2, reads: 3 });
    expect(items.runs).toBe(1);
  });

  it('a stored error is thrown again on each later call without running the method', async () => {
    items.gone.add(2);
    const first = await rejection(items.item(2));
    expect(first).toBeInstanceOf(CrGoneError);
    const again = await rejection(items.item(2));
    expect(again).toBeInstanceOf(CrGoneError);
    expect((again as Error).message).toBe('item 2 is gone');
    expect(items.runs).toBe(1);
    expect(countsOf(cache)).toMatchObject({ calls: 2, reads: 2 });
  });

  it('concurrent hits of different keys each answer their own value', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => i + 10);
    for (const id of ids) await items.item(id);
    const answers = await Promise.all(ids.map((id) => items.item(id)));
    expect(answers.map((answer) => answer.id)).toEqual(ids);
    expect(answers.map((answer) => answer.run)).toEqual(ids.map((_, i) => i + 1));
    expect(items.runs).toBe(ids.length);
    expect(countsOf(cache)).toEqual({ calls: 200, hits: 100, reads: 200 });
  });

  it('a key read from the backend is not served after it was deleted', async () => {
    await items.item(3);
    await cache.delete('Cr:item:3');
    await expect(items.item(3)).resolves.toEqual({ id: 3, run: 2 });
    expect(countsOf(cache)).toMatchObject({ calls: 2, hits: 0 });
  });
});
