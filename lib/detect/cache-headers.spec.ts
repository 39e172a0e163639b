import { cacheControlHeaders, etagMatches, etagOf, fromCacheHeaders } from './cache-headers.js';
import { detectContext, type DetectScope } from './cache-detect.js';

describe('cache headers', () => {
  const hits = [
    { key: 'product:1', strategy: 'cache', ttl: 30_500, age: 29_500 },
    { key: 'price:1', strategy: 'failover', ttl: 3_599_000, stale: true, exception: 'UpstreamError' },
  ];

  it('lists keys, the earliest expiry and failover errors', () => {
    expect(fromCacheHeaders(hits)).toEqual({
      'X-From-Cache': 'product:1, price:1',
      'X-From-Cache-Expire-In-Seconds': '30',
      'X-From-Cache-Exc': 'UpstreamError',
    });
    expect(fromCacheHeaders([{ key: 'ké\n', strategy: 'cache', ttl: -1 }])).toEqual({ 'X-From-Cache': 'k%C3%A9%0A' });
  });

  it('encodes emoji, lone surrogates, "%" and spaces so that the value decodes to the key, never throwing', () => {
    const keys = ['p:\u{1F600}', 'p:\uD800', 'p:\uDE00\uD83D', 'p:%ED%A0%80', 'a b'];
    const header = fromCacheHeaders(keys.map((key) => ({ key, strategy: 'cache', ttl: -1 })))['X-From-Cache'];
    expect(header).toBe('p:%F0%9F%98%80, p:%EF%BF%BD, p:%EF%BF%BD%EF%BF%BD, p:%25ED%25A0%2580, a%20b');
    expect(header.split(', ').map((item) => decodeURIComponent(item))).toEqual([
      'p:\u{1F600}',
      'p:\uFFFD',
      'p:\uFFFD\uFFFD',
      'p:%ED%A0%80',
      'a b',
    ]);
    expect(
      fromCacheHeaders([{ key: 'k', strategy: 'failover', exception: 'Err\u{1F600}\uD800' }])['X-From-Cache-Exc'],
    ).toBe('Err%F0%9F%98%80%EF%BF%BD');
  });

  it('sends Age and a private (or public) max-age', () => {
    expect(cacheControlHeaders(hits, false)).toEqual({ Age: '29', 'Cache-Control': 'private, max-age=30' });
    expect(cacheControlHeaders([{ key: 'k', strategy: 'cache', ttl: -1 }], true)).toEqual({
      'Cache-Control': 'public',
    });
  });

  it('marks a scope served only for a hit of the route itself', () => {
    const scope: DetectScope = { hits: [] };
    detectContext.report(scope, { key: 'inner', strategy: 'cache' });
    expect(scope.served).toBeUndefined();
    detectContext.report(scope, { key: 'route', strategy: 'cache' }, true);
    expect(scope.served).toBe(true);
    expect(scope.hits.map((hit) => hit.key)).toEqual(['inner', 'route']);
  });

  it('computes weak ETags and compares them weakly', () => {
    const tag = etagOf({ a: 1 }) as string;
    expect(tag).toMatch(/^W\/"[\w-]+"$/);
    expect(etagOf({ a: 1 })).toBe(tag);
    expect(etagOf({ a: 2 })).not.toBe(tag);
    expect(etagMatches(tag, tag)).toBe(true);
    expect(etagMatches(`"x", ${tag.slice(2)}`, tag)).toBe(true);
    expect(etagMatches('*', tag)).toBe(true);
    expect(etagMatches('"other"', tag)).toBe(false);
    expect(etagMatches(undefined, tag)).toBe(false);
  });
});
