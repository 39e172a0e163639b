/**
 * A backend of one's own (issue #13): registerBackend, the exported conformance suite run on it, its use through
 * createCache, prefixes and CashewsModule.forRoot, and every refusal (scheme names, parameters, factory results,
 * declined primitives). `map://` is test/support/map-backend.ts; `viaredis://` builds a RedisBackend on the worker's
 * real Redis from the URL's host, port and path. Redis isolation: database 13, flushed after the file.
 */
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  Cache,
  CacheService,
  CashewsModule,
  createCache,
  MemoryBackend,
  PrefixRouterBackend,
  RedisBackend,
  registerBackend,
  resolveCacheConfig,
  UnsupportedPrimitiveError,
  type Backend,
  type CustomBackendConfig,
} from '../../lib/index.js';
import { runBackendConformance } from '../../lib/testing/index.js';
import { jestFakeTimers, jestTest } from '../support/jest-runner.js';
import { MapBackend } from '../support/map-backend.js';
import { describeRedis, flushRedisDb, rawRedis, redisUrl } from '../support/redis.js';

const DB = 13;

/** What each factory was given, by scheme: the tests read the parsed URL back. */
const received = new Map<string, CustomBackendConfig>();

registerBackend(
  'map',
  (config) => {
    received.set('map', config);
    return new MapBackend(config.params.values ? 'values' : 'strings', config.params.decline?.split(',') ?? []);
  },
  { params: { values: 'bool', decline: 'string', readTimeout: 'duration' } },
);
registerBackend('viaredis', (config) => {
  const [node] = config.hosts;
  return new RedisBackend(resolveCacheConfig(`redis://${node.host}:${node.port ?? 6379}/${config.path || '0'}`));
});
registerBackend('broken', () => ({ kind: 'custom' }) as unknown as Backend);
registerBackend('wrong-kind', () => Object.assign(new MapBackend(), { kind: 'disk' }) as unknown as Backend);

const configError = (pattern: RegExp) =>
  expect.objectContaining({ code: 'CASHEWS_CONFIG', message: expect.stringMatching(pattern) });

describe('runBackendConformance on a custom backend', () => {
  runBackendConformance({
    name: 'map (strings)',
    create: () => new MapBackend(),
    test: jestTest,
    fakeTimers: jestFakeTimers,
  });
  runBackendConformance({ name: 'map (values)', create: () => new MapBackend('values'), test: jestTest });
});

describe('a registered scheme through createCache', () => {
  const caches: CacheService[] = [];
  const open = async (url: string, options?: Parameters<typeof createCache>[1]): Promise<CacheService> => {
    const cache = await createCache(url, options);
    caches.push(cache);
    return cache;
  };
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
  });

  it('hands the factory the URL parts and its own parameters, converted; keeps the secret to itself', async () => {
    await open('map://ada:p%40ss@h1:11211,[::1]/my%20table?read_timeout=2s&values=no&ttl=1m&secret=s3', {
      name: 'shop',
    });
    expect(received.get('map')).toEqual({
      scheme: 'map',
      displayUrl: 'map://ada:***@h1:11211,[::1]/my%20table?read_timeout=2s&values=no&ttl=1m&secret=***',
      name: 'shop',
      hosts: [{ host: 'h1', port: 11211 }, { host: '::1' }],
      path: 'my table',
      username: 'ada',
      password: 'p@ss',
      params: { readTimeout: 2000, values: false },
      safe: true,
      ttl: 60_000,
      connectTimeout: 2000,
    });
    expect(JSON.stringify(received.get('map'))).not.toContain('s3');
  });

  it('a backend storing strings gets strings (values round-trip with their types); the default TTL applies', async () => {
    const cache = await open('map://?ttl=1m');
    expect(cache.backend).toBeInstanceOf(MapBackend);
    const value = { at: new Date(0), tags: new Set(['a']), n: 10n };
    await cache.set('k', value);
    await expect(cache.get('k')).resolves.toEqual(value);
    expect(typeof (await cache.backend.get('k'))).toBe('string');
    const left = await cache.getExpire('k');
    expect(left).toBeGreaterThan(59_000);
    expect(left).toBeLessThanOrEqual(60_000);
  });

  it('signs on a strings backend: a value written raw reads as a miss', async () => {
    const cache = await open('map://', { secret: 'custom-secret' });
    await cache.set('signed', 'v');
    await expect(cache.get('signed')).resolves.toBe('v');
    await cache.backend.set('forged', 'plain');
    await expect(cache.get('forged')).resolves.toBeUndefined();
  });

  it("a backend declaring stores: 'values' keeps live copies; compress is refused for it", async () => {
    const cache = await open('map://?values=1');
    const value = { list: [1, 2] };
    await cache.set('k', value);
    const raw = await cache.backend.get('k');
    expect(typeof raw).toBe('object');
    expect(raw).toEqual(value);
    expect(raw).not.toBe(value);
    await expect(createCache('map://?values=1&compress=gzip')).rejects.toEqual(
      configError(/"compress".*stores: 'values'/),
    );
  });

  it('counters, locks and rate limits run through the primitives of the custom backend', async () => {
    const cache = await open('map://');
    await expect(cache.incr('n', 2)).resolves.toBe(2);
    await expect(cache.incr('n')).resolves.toBe(3);
    await expect(cache.lock('job', '10s', async () => 'locked run')).resolves.toBe('locked run');
  });

  it('a declined primitive fails with UnsupportedPrimitiveError at first use, safe mode included', async () => {
    const cache = await open('map://?decline=incr,setLock&safe=1');
    await cache.set('plain', 'still works');
    await expect(cache.get('plain')).resolves.toBe('still works');
    const incr = cache.incr('n');
    await expect(incr).rejects.toBeInstanceOf(UnsupportedPrimitiveError);
    await expect(incr).rejects.toMatchObject({
      code: 'CASHEWS_UNSUPPORTED_PRIMITIVE',
      primitive: 'incr',
      backend: 'map',
    });
    await expect(cache.lock('job', '10s', async () => 'ran')).rejects.toBeInstanceOf(UnsupportedPrimitiveError);
    await expect(cache.exists('n')).resolves.toBe(false);
  });

  it('enable=0 on a custom scheme builds no backend', async () => {
    received.delete('map');
    const cache = await open('map://?enable=0');
    expect(received.has('map')).toBe(false);
    await expect(cache.set('k', 1)).resolves.toBe(false);
  });
});

describeRedis('a custom scheme as a prefixes route to a real Redis', () => {
  afterAll(() => flushRedisDb(DB));

  it('routes "r:" keys to viaredis:// (stored in Redis) and the others to the main map://', async () => {
    const url = new URL(redisUrl(DB)!);
    const cache = await createCache('map://', { prefixes: { 'r:': `viaredis://${url.hostname}:${url.port}/${DB}` } });
    const raw = rawRedis(redisUrl(DB)!);
    try {
      expect(cache.backend).toBeInstanceOf(PrefixRouterBackend);
      expect(cache.backend.kind).toBe('redis');
      await cache.set('r:1', { in: 'redis' });
      await cache.set('m:1', { in: 'map' });
      await expect(cache.get('r:1')).resolves.toEqual({ in: 'redis' });
      await expect(cache.get('m:1')).resolves.toEqual({ in: 'map' });
      expect(await raw.get('r:1')).toEqual(expect.any(String));
      await expect(raw.exists('m:1')).resolves.toBe(0);
      await expect(cache.incr('r:n', 5)).resolves.toBe(5);
      await expect(raw.get('r:n')).resolves.toBe('5');
    } finally {
      raw.disconnect();
      await cache.close();
    }
  });
});

describe('CashewsModule.forRoot with a registered scheme', () => {
  @Injectable()
  class Prices {
    runs = 0;

    @Cache({ ttl: '1m' })
    async price(sku: string): Promise<{ sku: string; at: Date }> {
      this.runs++;
      return { sku, at: new Date(1_000) };
    }
  }

  @Module({ imports: [CashewsModule.forRoot('map://')], providers: [Prices] })
  class AppModule {}

  it('serves the second call of a decorated method from the custom backend', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await moduleRef.init();
    try {
      const prices = moduleRef.get(Prices);
      const first = await prices.price('a');
      await expect(prices.price('a')).resolves.toEqual(first);
      expect(prices.runs).toBe(1);
      const cache = moduleRef.get(CacheService);
      expect(cache.backend).toBeInstanceOf(MapBackend);
      expect(await collectKeys(cache)).toHaveLength(1);
    } finally {
      await moduleRef.close();
    }
  });
});

async function collectKeys(cache: CacheService): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of cache.scan('*')) keys.push(key);
  return keys;
}

describe('registerBackend refusals', () => {
  const factory = (): Backend => new MemoryBackend({ size: 10, checkInterval: 0 });

  it('refuses a scheme registered twice', () => {
    expect(() => registerBackend('map', factory)).toThrow(configError(/"map" is already registered/));
  });

  it.each(['mem', 'redis', 'rediss', 'redis+cluster', 'redis+sentinel'])('refuses the built-in scheme %s', (scheme) => {
    expect(() => registerBackend(scheme, factory)).toThrow(configError(/is built in/));
  });

  it.each(['', 'Map', 'map://', 'my_store', '1db', 'a+', 'a b'])('refuses the malformed scheme %j', (scheme) => {
    expect(() => registerBackend(scheme, factory)).toThrow(configError(/Invalid backend scheme/));
  });

  it('refuses a parameter named like a common one, a malformed one and an unknown kind', () => {
    expect(() => registerBackend('p1', factory, { params: { ttl: 'duration' } })).toThrow(
      configError(/parameter "ttl".*common cache parameter/),
    );
    expect(() => registerBackend('p2', factory, { params: { read_timeout: 'duration' } })).toThrow(
      configError(/camelCase/),
    );
    expect(() => registerBackend('p3', factory, { params: { table: 'text' as 'string' } })).toThrow(
      configError(/Invalid kind "text".*'string', 'int', 'bool', 'duration', 'size'/),
    );
    // A refused registration leaves the scheme free.
    expect(() => registerBackend('p1', factory)).not.toThrow();
  });

  it('a parameter of another scheme is free to declare with its own meaning', () => {
    expect(() => registerBackend('p4', factory, { params: { commandTimeout: 'duration' } })).not.toThrow();
    expect(resolveCacheConfig('p4://?command_timeout=150ms').custom?.params).toEqual({ commandTimeout: 150 });
  });
});

describe('URLs of a registered scheme', () => {
  it('refuses an unknown parameter, naming the common and the declared ones', () => {
    expect(() => resolveCacheConfig('map://?declne=incr')).toThrow(
      configError(
        /Unknown cache parameter "declne".*Accepted for map:\/\/: enable, safe, secret, ttl, codec, compress, compressMin, connectTimeout, tracing, values, decline, readTimeout/,
      ),
    );
    expect(() => resolveCacheConfig('map://?size=1')).toThrow(configError(/Unknown cache parameter "size"/));
  });

  it('refuses a bad value of a declared parameter with the accepted forms', () => {
    expect(() => resolveCacheConfig('map://?values=maybe')).toThrow(
      configError(/Invalid value "maybe" for cache parameter "values".*1\/0, true\/false/),
    );
    expect(() => resolveCacheConfig('map://?read_timeout=5')).toThrow(configError(/"read_timeout"/));
  });

  it('takes common options from the options object, and refuses the scheme parameters there', () => {
    expect(resolveCacheConfig('map://', { safe: false, ttl: '5s' })).toMatchObject({ safe: false, ttl: 5000 });
    expect(() => resolveCacheConfig('map://', { decline: 'incr' } as never)).toThrow(
      configError(/"decline" is a parameter of map:\/\/: give it in the URL/),
    );
    expect(() => resolveCacheConfig('map://', { size: 10 })).toThrow(configError(/Unknown cache parameter "size"/));
  });

  it('an unknown scheme says how to register one', () => {
    expect(() => resolveCacheConfig('memcached://localhost:11211')).toThrow(
      configError(/Unknown cache URL scheme "memcached:\/\/".*map:\/\/.*registerBackend\('memcached', factory\)/),
    );
  });

  it('refuses a malformed host or port', () => {
    expect(() => resolveCacheConfig('map://h:99999')).toThrow(configError(/Invalid port "99999"/));
    expect(() => resolveCacheConfig('map://a b')).toThrow(configError(/Malformed host "a b"/));
  });

  it('refuses at start-up what a factory returns that is no Backend, naming what is missing', async () => {
    await expect(createCache('broken://')).rejects.toEqual(
      configError(/without the Backend methods connect, close, get/),
    );
    await expect(createCache('wrong-kind://')).rejects.toEqual(configError(/kind "disk"/));
  });
});
