/**
 * cache.invalidateFurther(fn): inside fn, the first read of each key deletes it and misses, so a whole call tree of
 * decorated methods (@Cache, @Early, @Soft, @HitCache) is recomputed and stored again; outside fn, nothing changes.
 * From providers and from a controller's route. mem:// and Redis (the worker's private Redis, database 4, flushed
 * after the file).
 */
import {
  Controller,
  Get,
  Injectable,
  Param,
  Post,
  type INestApplication,
  type INestApplicationContext,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  Cache,
  CacheService,
  CashewsModule,
  Early,
  HitCache,
  Soft,
  addPrefix,
  createCache,
  type CacheHit,
  CacheDetect,
} from '../../lib/index.js';
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

/** One of each refreshing decorator, with refresh ages far off: inside a test only invalidateFurther recomputes. */
@Injectable()
class Parts {
  runs = { early: 0, soft: 0, hit: 0 };
  version = 1;

  @Early({ ttl: '1m', earlyTtl: '50s', key: 'further:early:{id}' })
  async early(id: string): Promise<string> {
    this.runs.early++;
    return `early ${id} v${this.version}`;
  }

  @Soft({ ttl: '1m', softTtl: '50s', key: 'further:soft:{id}' })
  async soft(id: string): Promise<string> {
    this.runs.soft++;
    return `soft ${id} v${this.version}`;
  }

  @HitCache({ ttl: '1m', cacheHits: 3, key: 'further:hit:{id}' })
  async hit(id: string): Promise<string> {
    this.runs.hit++;
    return `hit ${id} v${this.version}`;
  }
}

@Injectable()
class Assembly {
  runs = 0;
  constructor(private readonly parts: Parts) {}

  @Cache({ ttl: '1m', key: 'further:assembly:{id}' })
  async build(id: string): Promise<string> {
    this.runs++;
    return [await this.parts.early(id), await this.parts.soft(id), await this.parts.hit(id)].join(' | ');
  }
}

/** A route reading the assembly, and one rebuilding it (and all it reads) through its service. */
@Controller('further')
class FurtherController {
  constructor(
    private readonly assembly: Assembly,
    private readonly cache: CacheService,
  ) {}

  @Get(':id')
  read(@Param('id') id: string): Promise<string> {
    return this.assembly.build(id);
  }

  @Post(':id/rebuild')
  rebuild(@Param('id') id: string): Promise<string> {
    return this.cache.invalidateFurther(() => this.assembly.build(id));
  }
}

const hitsOf = (hits: CacheHit[]) => hits.map((hit) => `${hit.strategy} ${hit.key}`).sort();

describe.each([
  ['mem://', () => 'mem://'],
  ['redis', () => redisUrl(DB)!],
])('invalidateFurther with @Early, @Soft and @HitCache (%s)', (_name, url) => {
  let app: INestApplication;
  let cache: CacheService;
  let parts: Parts;
  let assembly: Assembly;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CashewsModule.forRoot(url())],
      providers: [Parts, Assembly],
      controllers: [FurtherController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    cache = app.get(CacheService);
    await cache.clear();
    parts = app.get(Parts);
    assembly = app.get(Assembly);
  });
  afterEach(() => app.close());
  afterAll(() => (url().startsWith('redis') ? flushRedisDb(DB) : undefined));

  const all = (id: string) => Promise.all([parts.early(id), parts.soft(id), parts.hit(id)]);

  it('each is recomputed once inside the scope and stored again; outside it they serve the new values', async () => {
    expect(await all('a')).toEqual(['early a v1', 'soft a v1', 'hit a v1']);
    parts.version = 2;
    expect(await all('a')).toEqual(['early a v1', 'soft a v1', 'hit a v1']); // served
    expect(parts.runs).toEqual({ early: 1, soft: 1, hit: 1 });

    // Each read twice in the scope: recomputed on the first, the new value answered on the second.
    const inside = await cache.invalidateFurther(async () => [...(await all('a')), ...(await all('a'))]);
    expect(inside).toEqual(['early a v2', 'soft a v2', 'hit a v2', 'early a v2', 'soft a v2', 'hit a v2']);
    expect(parts.runs).toEqual({ early: 2, soft: 2, hit: 2 });

    // Outside: served from what the scope stored, by each decorator.
    const { result, hits } = await CacheDetect.run(() => all('a'));
    expect(result).toEqual(['early a v2', 'soft a v2', 'hit a v2']);
    expect(hitsOf(hits)).toEqual(['early further:early:a', 'hit further:hit:a', 'soft further:soft:a']);
    expect(parts.runs).toEqual({ early: 2, soft: 2, hit: 2 });
    // @HitCache stored its new value with a fresh budget of 3 hits: the second read in the scope, the one above,
    // one more; then it recomputes.
    await parts.hit('a');
    expect(parts.runs.hit).toBe(2);
    await parts.hit('a');
    expect(parts.runs.hit).toBe(3);
  });

  it('called through a @Cache method, the whole tree below it is recomputed; other ids are untouched', async () => {
    expect(await assembly.build('b')).toBe('early b v1 | soft b v1 | hit b v1');
    expect(await all('c')).toEqual(['early c v1', 'soft c v1', 'hit c v1']);
    parts.version = 2;
    expect(await cache.invalidateFurther(() => assembly.build('b'))).toBe('early b v2 | soft b v2 | hit b v2');
    expect(assembly.runs).toBe(2);
    expect(parts.runs).toEqual({ early: 3, soft: 3, hit: 3 });
    expect(await assembly.build('b')).toBe('early b v2 | soft b v2 | hit b v2');
    expect(await all('c')).toEqual(['early c v1', 'soft c v1', 'hit c v1']);
    expect(assembly.runs).toBe(2);
    expect(parts.runs).toEqual({ early: 3, soft: 3, hit: 3 });
  });

  it("from a controller's route: the service call inside invalidateFurther rebuilds what the next GET serves", async () => {
    const server = app.getHttpServer();
    await request(server).get('/further/d').expect(200, 'early d v1 | soft d v1 | hit d v1');
    parts.version = 2;
    await request(server).get('/further/d').expect(200, 'early d v1 | soft d v1 | hit d v1');
    await request(server).post('/further/d/rebuild').expect(201, 'early d v2 | soft d v2 | hit d v2');
    expect(parts.runs).toEqual({ early: 2, soft: 2, hit: 2 });
    await request(server).get('/further/d').expect(200, 'early d v2 | soft d v2 | hit d v2');
    expect(assembly.runs).toBe(2);
    expect(parts.runs).toEqual({ early: 2, soft: 2, hit: 2 });
  });
});

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
