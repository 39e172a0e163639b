/**
 * Issue #9, item 3: two different argument values never share a cache entry, on mem:// and on Redis (db 8),
 * where keys are stored as UTF-8 bytes (a lone surrogate written as text would become U+FFFD there).
 * Every class name and key template here starts with "Kc" (see test/support/strategy-fixtures.ts).
 */
import { Injectable } from '@nestjs/common';
import { Cache, type CacheService } from '../../lib/index.js';
import { cleanup, closeApps, describeBackends, keysOf, startApp } from '../support/strategy-fixtures.js';

const TAG = 'Kc';

@Injectable()
class KcSearch {
  calls = 0;

  @Cache({ ttl: '10s', key: 'KcSearch:{q}' })
  async byTemplate(q: unknown) {
    this.calls++;
    return { q, n: this.calls };
  }

  @Cache({ ttl: '10s' })
  async byDefaultKey(q: unknown) {
    this.calls++;
    return { q, n: this.calls };
  }
}

/** Pairs of different values that used to render one key. */
const PAIRS: Array<[string, unknown, unknown]> = [
  ['a lone surrogate and U+FFFD', '\uD800', '\uFFFD'],
  ['a lone low surrogate inside text and U+FFFD', 'a\uDC00b', 'a\uFFFDb'],
  ['an object and its JSON text', { a: 1 }, '{"a":1}'],
  ['a nested object and a nested JSON string', { q: { a: 1 } }, { q: '{"a":1}' }],
  ['an array and its text', [1, 2], '[1,2]'],
  ['a number and its decimal string', 42, '42'],
  ['a number and a BigInt', 42, 42n],
  ['a boolean and its word', true, 'true'],
  ['a Date and its ISO text', new Date(0), '1970-01-01T00:00:00.000Z'],
];

describeBackends('key collisions', ({ url }) => {
  let cache: CacheService;
  let search: KcSearch;

  beforeEach(async () => {
    await cleanup(url, TAG);
    const app = await startApp(url, [KcSearch]);
    cache = app.cache;
    search = app.app.get(KcSearch);
  });

  afterEach(async () => {
    await closeApps();
    await cleanup(url, TAG);
  });

  it.each(PAIRS)('%s get different entries (template and default key)', async (_name, first, second) => {
    expect(await search.byTemplate(first)).toEqual({ q: first, n: 1 });
    expect(await search.byTemplate(second)).toEqual({ q: second, n: 2 });
    expect(await search.byTemplate(first)).toEqual({ q: first, n: 1 });
    expect(await search.byDefaultKey(first)).toEqual({ q: first, n: 3 });
    expect(await search.byDefaultKey(second)).toEqual({ q: second, n: 4 });
    expect(await search.byDefaultKey(second)).toEqual({ q: second, n: 4 });
    expect(search.calls).toBe(4);
    expect(await keysOf(cache, 'KcSearch:*')).toHaveLength(4);
  });
});
