/**
 * cache.invalidateFurther(fn): inside fn, the first read of each key deletes it and misses, so a whole call tree of
 * decorated methods is recomputed and stored again; outside fn, nothing changes. mem:// and Redis (the worker's
 * private Redis, database 4, flushed after the file).
 */
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Cache, CacheService, CashewsModule, addPrefix, createCache } from '../../lib/index.js';
import { flushRedisDb, redisUrl } from '../support/redis.js';

const DB = 4;

@Injectable()
class Rates {
  runs = 0;
  version = 1;
  @Cache({ ttl: '1m', key: 'further:rate:{currency}' })
  async rate(currency: string): Promise<string> {
    this.runs++;
    return `${currency}@v${this.version}`;
  }
}

@Injectable()
class Prices {
  runs = 0;
  constructor(private readonly rates: Rates) {}
  @Cache({ ttl: '1m', key: 'further:price:{sku}' })
  async price(sku: string): Promise<string> {
    this.runs++;
    // Reads the same rate twice: one recompute per key and scope, not one per read.
    const first = await this.rates.rate('EUR');
    const again = await this.rates.rate('EUR');
    return `${sku} in ${first}/${again}`;
  }
}

describe.each([
  ['mem://', () => 'mem://'],
  ['redis', () => redisUrl(DB)!],
])('invalidateFurther (%s)', (_name, url) => {
  let app: INestApplicationContext;
  let cache: CacheService;
  let prices: Prices;
  let rates: Rates;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CashewsModule.forRoot(url())],
      providers: [Rates, Prices],
    }).compile();
    app = await moduleRef.init();
    cache = app.get(CacheService);
    await cache.clear();
    prices = app.get(Prices);
    rates = app.get(Rates);
  });
  afterEach(() => app.close());
  afterAll(() => (url().startsWith('redis') ? flushRedisDb(DB) : undefined));

  it('recomputes and re-stores the whole call tree, once per key; outside the scope the cache is used', async () => {
    expect(await prices.price('shirt')).toBe('shirt in EUR@v1/EUR@v1');
    expect([prices.runs, rates.runs]).toEqual([1, 1]);
    rates.version = 2;
    expect(await prices.price('shirt')).toBe('shirt in EUR@v1/EUR@v1'); // cached
    expect(await cache.invalidateFurther(() => prices.price('shirt'))).toBe('shirt in EUR@v2/EUR@v2');
    expect([prices.runs, rates.runs]).toEqual([2, 2]);
    // Stored again: the next call outside the scope hits.
    expect(await prices.price('shirt')).toBe('shirt in EUR@v2/EUR@v2');
    expect(await rates.rate('EUR')).toBe('EUR@v2');
    expect([prices.runs, rates.runs]).toEqual([2, 2]);
  });

  it('get and getMany inside the scope miss and delete; a concurrent call outside still hits', async () => {
    await cache.set('further:a', 1, { ttl: '1m' });
    await cache.set('further:b', 2, { ttl: '1m' });
    await cache.set('further:c', 3, { ttl: '1m' });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const inside = cache.invalidateFurther(async () => {
      const a = await cache.get('further:a', 'miss');
      await held;
      const many = await cache.getMany(['further:b', 'further:a'], 'miss');
      return [a, ...many];
    });
    // Outside the scope, while it is open: c is untouched and readable.
    expect(await cache.get('further:c')).toBe(3);
    release();
    expect(await inside).toEqual(['miss', 'miss', 'miss']);
    expect(await cache.exists('further:a')).toBe(false);
    expect(await cache.exists('further:b')).toBe(false);
    expect(await cache.get('further:c')).toBe(3);
  });
});

describe('invalidateFurther with a key-rewriting hook', () => {
  it("deletes through the instance's hooks: the prefixed key is the one removed", async () => {
    const cache = await createCache('mem://', { hooks: [addPrefix('app:')] });
    try {
      await cache.set('k', 'v');
      expect(await cache.invalidateFurther(() => cache.get('k', 'miss'))).toBe('miss');
      expect(await cache.backend.exists('app:k')).toBe(false);
    } finally {
      await cache.close();
    }
  });
});
