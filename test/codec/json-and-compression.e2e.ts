/**
 * `codec=json` (plain JSON on the wire, for services in other languages) and compression (`compress=gzip|br`,
 * `compress_min`), on the worker's private Redis (database 13, flushed after the file) and mem:// where they apply.
 */
import { gzipSync } from 'node:zlib';
import type { Redis } from 'ioredis';
import { CacheService, CacheValueError, CashewsConfigError, createCache } from '../../lib/index.js';
import { flushRedisDb, rawRedis, redisUrl, withQuery } from '../support/redis.js';

// One describe around the file: its hooks stay its own inside a group file (see jest.config.js).
describe('codec=json and compression', () => {
  const DB = 13;
  const url = (params: Record<string, string> = {}): string => withQuery(redisUrl(DB)!, params);

  let raw: Redis;
  const open: CacheService[] = [];
  async function make(u: string, options: Parameters<typeof createCache>[1] = {}): Promise<CacheService> {
    const cache = await createCache(u, options);
    open.push(cache);
    return cache;
  }
  beforeAll(() => (raw = rawRedis(redisUrl(DB)!)));
  afterEach(async () => {
    await Promise.all(open.splice(0).map((cache) => cache.close()));
  });
  afterAll(async () => {
    raw.disconnect();
    await flushRedisDb(DB);
  });

  describe('codec=json', () => {
    it('stores plain JSON text another language can read, and reads what it writes', async () => {
      const cache = await make(url({ codec: 'json' }));
      const order = { id: 7, items: [{ sku: 'a', qty: 2 }], paid: true, note: null, total: 12.5 };
      await cache.set('order:7', order, { ttl: '1m' });
      expect(await raw.get('order:7')).toBe(JSON.stringify(order));
      await raw.set('order:8', '{"id":8,"items":[],"paid":false}');
      expect(await cache.get('order:8')).toEqual({ id: 8, items: [], paid: false });
      await raw.set('greeting', '"hello"');
      expect(await cache.get('greeting')).toBe('hello');
    });

    it('integers stay digits: incr works on them from either side', async () => {
      const cache = await make(url({ codec: 'json' }));
      await cache.set('n', 41);
      expect(await raw.get('n')).toBe('41');
      expect(await cache.incr('n')).toBe(42);
      await raw.incrby('n', 8);
      expect(await cache.get('n')).toBe(50);
    });

    it.each([
      ['undefined', undefined, /cannot store undefined/],
      ['NaN inside', { a: [1, Number.NaN] }, /cannot store NaN at \.a\[1\]/],
      ['a Date', { at: new Date(0) }, /cannot store an instance of Date at \.at .*toISOString/],
      ['a Map', new Map([['a', 1]]), /cannot store an instance of Map/],
      ['a bigint', { n: 1n }, /cannot store a bigint at \.n/],
      [
        'a cycle',
        (() => {
          const a: Record<string, unknown> = {};
          a.self = a;
          return a;
        })(),
        /cannot store a cycle at \.self/,
      ],
    ])('refuses %s with CacheValueError, storing nothing', async (_label, value, message) => {
      const cache = await make(url({ codec: 'json' }));
      const error: unknown = await cache.set('bad', value).then(
        () => new Error('stored'),
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(CacheValueError);
      expect((error as Error).message).toMatch(message);
      expect(await raw.exists('bad')).toBe(0);
    });

    it('foreign or hostile text reads as a miss and pollutes nothing', async () => {
      const cache = await make(url({ codec: 'json' }));
      await raw.set('proto', '{"__proto__":{"polluted":true},"a":1}');
      const value = (await cache.get('proto')) as Record<string, unknown>;
      expect(value.a).toBe(1);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      await raw.set('broken', '{"a":');
      expect(await cache.get('broken', 'miss')).toBe('miss');
      await raw.set('deep', '['.repeat(5_000) + ']'.repeat(5_000));
      expect(await cache.get('deep', 'miss')).toBe('miss');
    });

    it('also on mem://, where values are stored as JSON text too', async () => {
      const cache = await make('mem://?codec=json');
      const value = { a: [1, 2] };
      await cache.set('k', value);
      value.a.push(3);
      expect(await cache.get('k')).toEqual({ a: [1, 2] });
      await expect(cache.set('u', undefined)).rejects.toBeInstanceOf(CacheValueError);
    });

    it.each([
      [{ codec: 'json', secret: 's3cret' }, /codec=json .* could not verify a signature/],
      [{ codec: 'json', compress: 'gzip' }, /codec=json .* "compress" would hide it/],
      [{ codec: 'yaml' }, /Invalid value "yaml" for cache parameter "codec". Accepted: 'cashews' or 'json'/],
    ])('refuses %p at creation', async (options, message) => {
      await expect(createCache(url(), options as never)).rejects.toThrow(CashewsConfigError);
      await expect(createCache(url(), options as never)).rejects.toThrow(message);
    });
  });

  describe('compression', () => {
    const catalogue = {
      items: Array.from({ length: 200 }, (_, i) => ({ sku: `sku-${i}`, name: 'Blue shirt', price: 10 })),
    };
    const json = JSON.stringify(catalogue);

    it.each(['gzip', 'br'])(
      '%s: values over compress_min are stored compressed, smaller ones as they are',
      async (algorithm) => {
        const cache = await make(url({ compress: algorithm, compress_min: '1KB' }));
        await cache.set('big', catalogue, { ttl: '1m' });
        await cache.set('small', { a: 1 }, { ttl: '1m' });
        const stored = (await raw.get('big'))!;
        expect(stored.startsWith(algorithm === 'br' ? 'c1:zb' : 'c1:zg')).toBe(true);
        expect(stored.length).toBeLessThan(json.length / 5);
        expect(await raw.get('small')).toBe('c1:p{"a":1}');
        expect(await cache.get('big')).toEqual(catalogue);
      },
    );

    it('is transparent to readers: an instance without compress reads compressed values', async () => {
      const writer = await make(url({ compress: 'gzip' }));
      const reader = await make(url());
      await writer.set('shared', catalogue, { ttl: '1m' });
      expect(await reader.get('shared')).toEqual(catalogue);
    });

    it('signed and compressed: the signature covers the compressed bytes, a tampered value is a miss', async () => {
      const cache = await make(url({ compress: 'gzip' }), { secret: 'k1' });
      await cache.set('signed', catalogue, { ttl: '1m' });
      const stored = (await raw.get('signed'))!;
      expect(stored).toMatch(/^c1s:[^:]+:zg/);
      expect(await cache.get('signed')).toEqual(catalogue);
      const forged = gzipSync(Buffer.from('p{"forged":true}')).toString('base64');
      await raw.set('signed', stored.replace(/zg.*$/, `zg${forged}`));
      expect(await cache.get('signed', 'miss')).toBe('miss');
    });

    it('a value that would expand past 256 MB is refused (a miss), not expanded', async () => {
      const cache = await make(url());
      const bomb = gzipSync(Buffer.alloc(300 * 1024 * 1024, 0x20), { level: 9 }).toString('base64');
      await raw.set('bomb', `c1:zg${bomb}`);
      expect(await cache.get('bomb', 'miss')).toBe('miss');
    });

    it.each([
      ['mem://?compress=gzip', /compress/],
      [`${redisUrl(DB) ?? 'redis://127.0.0.1/13'}?compress=zip`, /Accepted: 'gzip' or 'br'/],
      [`${redisUrl(DB) ?? 'redis://127.0.0.1/13'}?compress=gzip&compress_min=1XB`, /compress_min/],
    ])('refuses %s', async (bad, message) => {
      await expect(createCache(bad)).rejects.toThrow(CashewsConfigError);
      await expect(createCache(bad)).rejects.toThrow(message);
    });
  });
});
