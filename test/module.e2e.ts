/**
 * CashewsModule inside a real Nest container (@nestjs/testing): injection by type and by name, global vs
 * local registration, forRootAsync with an injected config service, enable=0, configuration errors at
 * bootstrap and at decoration time, and shutdown.
 * Redis isolation: this file uses database 7 of the discovered Redis (flushed after the file). db 0 is never touched.
 */
import { Injectable, Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  Cache,
  CacheService,
  CashewsConfigError,
  CashewsModule,
  Early,
  getCacheToken,
  InjectCache,
  MemoryBackend,
  RedisBackend,
  Soft,
  type CacheDecoratorOptions,
} from '../lib/index.js';
import { describeRedis, flushRedisDb, redisUrl } from './support/redis.js';

// One describe around the file: its hooks stay its own inside a group file (see jest.config.js).
describe('CashewsModule', () => {
  const DB = 7;

  function must(url: string | undefined): string {
    if (!url) throw new Error('Redis URL missing although the suite is not skipped');
    return url;
  }

  /** A provider that injects the default instance by type. */
  @Injectable()
  class UsesDefault {
    constructor(readonly cache: CacheService) {}
  }

  /** A module that does NOT import CashewsModule: it can only see a global instance. */
  @Module({ providers: [UsesDefault], exports: [UsesDefault] })
  class ConsumerModule {}

  /** Compiles a testing module and closes it after the test, whatever happens. */
  const open: INestApplicationContext[] = [];
  async function compile(
    imports: Array<DynamicModule | (new () => unknown)>,
    providers: Array<new (...a: never[]) => unknown> = [],
  ) {
    const moduleRef = await Test.createTestingModule({ imports, providers }).compile();
    open.push(moduleRef);
    await moduleRef.init();
    return moduleRef;
  }

  afterEach(async () => {
    while (open.length) await open.pop()!.close();
  });

  /** Resolves to the error `promise` rejected with; fails the test if it resolved. */
  async function rejection(promise: Promise<unknown>): Promise<Error> {
    try {
      const value = await promise;
      if (value && typeof (value as INestApplicationContext).close === 'function') {
        await (value as INestApplicationContext).close();
      }
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected a rejection, but the promise resolved');
  }

  async function roundTrip(cache: CacheService, key: string): Promise<void> {
    expect(await cache.get(key)).toBeUndefined();
    expect(await cache.set(key, { n: 1, tags: ['a'] }, { ttl: '1m' })).toBe(true);
    expect(await cache.get(key)).toEqual({ n: 1, tags: ['a'] });
  }

  describe('CashewsModule.forRoot on mem://', () => {
    it('forRoot() defaults to mem:// and is injectable by type, globally', async () => {
      const moduleRef = await compile([CashewsModule.forRoot(), ConsumerModule]);
      const { cache } = moduleRef.get(UsesDefault);
      expect(cache).toBeInstanceOf(CacheService);
      expect(cache.backend).toBeInstanceOf(MemoryBackend);
      expect(cache.config.scheme).toBe('mem');
      expect(cache.name).toBeUndefined();
      // The provider in ConsumerModule and the root lookup get the very same instance.
      expect(moduleRef.get(CacheService)).toBe(cache);
      await roundTrip(cache, 'default:k');
    });

    it("forRoot('mem://?size=100') applies the URL parameters", async () => {
      const moduleRef = await compile([CashewsModule.forRoot('mem://?size=100'), ConsumerModule]);
      const { cache } = moduleRef.get(UsesDefault);
      expect(cache.config.size).toBe(100);
      await roundTrip(cache, 'sized:k');
    });

    it('with isGlobal: false, a module that does not import it cannot inject CacheService', async () => {
      const error = await rejection(
        Test.createTestingModule({
          imports: [CashewsModule.forRoot('mem://', { isGlobal: false }), ConsumerModule],
        }).compile(),
      );
      expect(error.message).toMatch(/can't resolve dependencies of the UsesDefault/);
      expect(error.message).toContain('CacheService');
      expect(error.message).toContain('ConsumerModule');
    });

    it('with isGlobal: false, providers of the importing module can still inject it', async () => {
      const moduleRef = await compile([CashewsModule.forRoot('mem://', { isGlobal: false })], [UsesDefault]);
      await roundTrip(moduleRef.get(UsesDefault).cache, 'local:k');
    });
  });

  describeRedis('CashewsModule.forRoot on Redis', () => {
    afterAll(() => flushRedisDb(DB));

    it('forRoot(redisUrl) is injectable by type, globally, and talks to that database', async () => {
      const moduleRef = await compile([CashewsModule.forRoot(must(redisUrl(DB))), ConsumerModule]);
      const { cache } = moduleRef.get(UsesDefault);
      expect(cache.backend).toBeInstanceOf(RedisBackend);
      expect(cache.config.db).toBe(DB);
      await roundTrip(cache, `module:redis:${Date.now()}`);
      // The value really lives in db 7.
      const client = (cache.backend as RedisBackend).client;
      expect(await client.exists(`module:redis:missing`)).toBe(0);
      await cache.set('module:redis:probe', 'x');
      expect(await client.exists('module:redis:probe')).toBe(1);
    });
  });

  /** Mimics @nestjs/config without depending on it. */
  @Injectable()
  class ConfigServiceLike {
    private readonly values: Record<string, string> = { CACHE_URL: 'mem://?size=42&check_interval=5s' };
    get(key: string): string | undefined {
      return this.values[key];
    }
  }

  @Module({ providers: [ConfigServiceLike], exports: [ConfigServiceLike] })
  class ConfigModuleLike {}

  describe('CashewsModule.forRootAsync', () => {
    it('builds the instance from an injected config service', async () => {
      const moduleRef = await compile([
        CashewsModule.forRootAsync({
          imports: [ConfigModuleLike],
          inject: [ConfigServiceLike],
          useFactory: (config: ConfigServiceLike) => ({ url: config.get('CACHE_URL') }),
        }),
        ConsumerModule,
      ]);
      const { cache } = moduleRef.get(UsesDefault);
      expect(cache.config.size).toBe(42);
      expect(cache.config.checkInterval).toBe(5000);
      await roundTrip(cache, 'async:k');
    });

    it('rejects a bad URL returned by the factory at bootstrap', async () => {
      const error = await rejection(
        Test.createTestingModule({
          imports: [CashewsModule.forRootAsync({ useFactory: () => ({ url: 'mem://?size=0' }) })],
        }).compile(),
      );
      expect(error).toBeInstanceOf(CashewsConfigError);
      expect(error.message).toContain('"size"');
    });

    // These must be known before the factory runs: returned by it, they were ignored, unsaid (a factory's `name` made
    // the instance the default one).
    it.each<[string, Record<string, unknown>]>([
      ['name', { name: 'sessions' }],
      ['isGlobal', { isGlobal: false }],
      ['cacheManagerCompat', { cacheManagerCompat: true }],
      ['globalInterceptors', { globalInterceptors: true }],
      ['globalFilter', { globalFilter: false }],
      ['directRoutes', { directRoutes: false }],
    ])('refuses %s returned by the factory, saying to pass it beside useFactory', async (key, extra) => {
      const error = await rejection(
        Test.createTestingModule({
          imports: [CashewsModule.forRootAsync({ useFactory: () => ({ url: 'mem://', ...extra }) as never })],
        }).compile(),
      );
      expect(error).toBeInstanceOf(CashewsConfigError);
      expect(error.message).toContain(`"${key}"`);
      expect(error.message).toMatch(/beside useFactory/);
      expect(error.message).toMatch(/known before the factory runs/);
    });

    it('names every such key of one factory, with the call that takes them', async () => {
      const error = await rejection(
        Test.createTestingModule({
          imports: [
            CashewsModule.forRootAsync({
              useFactory: () => ({ url: 'mem://?size=1000', name: 'sessions', isGlobal: false }) as never,
            }),
          ],
        }).compile(),
      );
      expect(error).toBeInstanceOf(CashewsConfigError);
      expect(error.message).toContain('"name", "isGlobal"');
      expect(error.message).toContain("CashewsModule.forRootAsync({ name: 'sessions', isGlobal: false, useFactory");
    });
  });

  @Injectable()
  class UsesNamed {
    constructor(
      @InjectCache('sessions') readonly sessions: CacheService,
      readonly main: CacheService,
    ) {}
  }

  @Injectable()
  class UsesX {
    constructor(@InjectCache('x') readonly x: CacheService) {}
  }

  describe('named instances', () => {
    it("forRootAsync({ name: 'x' }) is injected with @InjectCache('x') and is not the default", async () => {
      const moduleRef = await compile(
        [
          CashewsModule.forRoot('mem://'),
          CashewsModule.forRootAsync({ name: 'x', useFactory: () => ({ url: 'mem://?size=7' }) }),
        ],
        [UsesX, UsesDefault],
      );
      const { x } = moduleRef.get(UsesX);
      const main = moduleRef.get(UsesDefault).cache;
      expect(x.name).toBe('x');
      expect(x.config.size).toBe(7);
      expect(x).not.toBe(main);
      await x.set('only-in-x', 1);
      expect(await x.get('only-in-x')).toBe(1);
      expect(await main.get('only-in-x')).toBeUndefined();
    });

    it('a named instance alone does not provide the default CacheService', async () => {
      const error = await rejection(
        Test.createTestingModule({
          imports: [CashewsModule.forRoot('mem://', { name: 'sessions' })],
          providers: [UsesDefault],
        }).compile(),
      );
      expect(error.message).toContain('CacheService');
    });
  });

  describeRedis('named instance next to a Redis default', () => {
    afterAll(() => flushRedisDb(DB));

    it("@InjectCache('sessions') and CacheService are different stores", async () => {
      const moduleRef = await compile(
        [CashewsModule.forRoot('mem://', { name: 'sessions' }), CashewsModule.forRoot(must(redisUrl(DB)))],
        [UsesNamed],
      );
      const { sessions, main } = moduleRef.get(UsesNamed);
      expect(sessions).not.toBe(main);
      expect(sessions.name).toBe('sessions');
      expect(sessions.backend).toBeInstanceOf(MemoryBackend);
      expect(main.name).toBeUndefined();
      expect(main.backend).toBeInstanceOf(RedisBackend);

      const key = `named:${Date.now()}`;
      expect(await sessions.set(`${key}:s`, 'session')).toBe(true);
      expect(await main.set(`${key}:m`, 'main')).toBe(true);
      expect(await sessions.get(`${key}:s`)).toBe('session');
      expect(await main.get(`${key}:m`)).toBe('main');
      expect(await main.get(`${key}:s`)).toBeUndefined();
      expect(await sessions.get(`${key}:m`)).toBeUndefined();
    });
  });

  @Injectable()
  class Expensive {
    calls = 0;
    @Cache({ ttl: '1m' })
    async compute(id: string): Promise<string> {
      this.calls += 1;
      return `value:${id}`;
    }
  }

  describe('disabled instances', () => {
    it.each([
      ['enable=0 in the URL', () => CashewsModule.forRoot('mem://?enable=0')],
      ['{ enable: false }', () => CashewsModule.forRoot('mem://', { enable: false })],
    ])('%s: commands are no-ops and decorated methods always run', async (_label, module) => {
      const moduleRef = await compile([module()], [UsesDefault, Expensive]);
      const { cache } = moduleRef.get(UsesDefault);
      expect(cache.enabled).toBe(false);
      expect(await cache.set('k', 'v')).toBe(false);
      expect(await cache.get('k')).toBeUndefined();
      expect(await cache.get('k', 'fallback')).toBe('fallback');

      const service = moduleRef.get(Expensive);
      expect(await service.compute('a')).toBe('value:a');
      expect(await service.compute('a')).toBe('value:a');
      expect(await service.compute('a')).toBe('value:a');
      expect(service.calls).toBe(3);
    });

    it('control: on an enabled instance the same method runs once', async () => {
      const moduleRef = await compile([CashewsModule.forRoot('mem://')], [Expensive]);
      const service = moduleRef.get(Expensive);
      expect(await service.compute('a')).toBe('value:a');
      expect(await service.compute('a')).toBe('value:a');
      expect(service.calls).toBe(1);
    });
  });

  describe('configuration errors at bootstrap', () => {
    it.each<[string, () => DynamicModule, RegExp[]]>([
      [
        'unknown scheme',
        () => CashewsModule.forRoot('memcached://localhost:11211'),
        [/memcached:\/\//, /mem:\/\//, /redis:\/\//, /rediss:\/\//, /redis\+cluster:\/\//],
      ],
      ['non-numeric size', () => CashewsModule.forRoot('mem://?size=abc'), [/"size"/, /"abc"/, /integer >= 1/]],
      ['port out of range', () => CashewsModule.forRoot('redis://h:99999'), [/99999/, /port/i, /1-65535/]],
      [
        'misspelt URL parameter',
        () => CashewsModule.forRoot('redis://localhost?command_timout=1s'),
        [/"command_timout"/, /commandTimeout/, /connectTimeout/],
      ],
      [
        'unknown option key',
        () => CashewsModule.forRoot('mem://', { tll: '1m' } as never),
        [/"tll"/, /options/, /size/, /checkInterval/, /ttl/],
      ],
      [
        'misspelt module option: both lists, and the closest name',
        () => CashewsModule.forRoot('mem://', { detectHeader: true } as never),
        [
          /"detectHeader"/,
          /Did you mean "detectHeaders"\?/,
          /cache parameters for mem:\/\/ \(also in the URL\): enable, safe, .*size/,
          /module options \(options object only\): .*detectHeaders, cacheControl, .*keyContext, metrics, dashboard/,
          /module options[^;]*prefixes, hooks/,
          /module options[^;]*classes/,
          /module options[^;]*name, isGlobal, cacheManagerCompat, globalInterceptors, globalFilter, directRoutes/,
        ],
      ],
      [
        'a name close to none: no suggestion',
        () => CashewsModule.forRoot('redis://localhost', { colour: 'blue' } as never),
        [/"colour"/, /^(?!.*Did you mean)/s, /redis:\/\/ \(also in the URL\): .*commandTimeout/, /module options/],
      ],
      [
        'misspelt option returned by a forRootAsync factory',
        () => CashewsModule.forRootAsync({ useFactory: () => ({ url: 'mem://', dashbord: true }) as never }),
        [
          /"dashbord"/,
          /forRootAsync/,
          /Did you mean "dashboard"\?/,
          /module options \(options object only\): [^;]*dashboard\b(?![^;]*isGlobal)/,
          /beside useFactory: name, isGlobal/,
        ],
      ],
      [
        'a forRootAsync factory that returns a URL string',
        () => CashewsModule.forRootAsync({ useFactory: () => 'redis://app:hunter2@cache:6379' as never }),
        [/forRootAsync options factory must return an options object/, /got a string/, /\{ url: /, /^(?!.*hunter2)/s],
      ],
      [
        'a forRootAsync factory that returns nothing',
        () => CashewsModule.forRootAsync({ useFactory: () => undefined as never }),
        [/forRootAsync options factory must return an options object/, /got undefined/],
      ],
      [
        'bad duration',
        () => CashewsModule.forRoot('mem://?check_interval=soon'),
        [/"check_interval"/, /"soon"/, /duration/, /'10s'/],
      ],
      [
        'parameter of another backend',
        () => CashewsModule.forRoot('mem://?command_timeout=1s'),
        [/"command_timeout"/, /does not apply to mem:\/\//],
      ],
    ])('%s', async (_label, module, patterns) => {
      const error = await rejection(Test.createTestingModule({ imports: [module()] }).compile());
      expect(error).toBeInstanceOf(CashewsConfigError);
      expect(error.name).toBe('CashewsConfigError');
      expect((error as CashewsConfigError).code).toBe('CASHEWS_CONFIG');
      for (const pattern of patterns) expect(error.message).toMatch(pattern);
    });

    it('a decorator naming an unregistered instance fails at bootstrap, naming it', async () => {
      @Injectable()
      class UsesMissingInstance {
        @Cache({ ttl: '1m', cache: 'nope' })
        async load(): Promise<number> {
          return 1;
        }
      }
      const error = await rejection(compile([CashewsModule.forRoot('mem://')], [UsesMissingInstance]));
      expect(error).toBeInstanceOf(CashewsConfigError);
      expect(error.message).toContain('"nope"');
      expect(error.message).toContain("forRoot(url, { name: 'nope' })");
    });

    it('the same decorator works once the instance is registered', async () => {
      @Injectable()
      class UsesNamedInstance {
        calls = 0;
        @Cache({ ttl: '1m', cache: 'nope' })
        async load(): Promise<number> {
          return ++this.calls;
        }
      }
      const moduleRef = await compile(
        [CashewsModule.forRoot('mem://'), CashewsModule.forRoot('mem://', { name: 'nope' })],
        [UsesNamedInstance],
      );
      const service = moduleRef.get(UsesNamedInstance);
      expect(await service.load()).toBe(1);
      expect(await service.load()).toBe(1);
      expect(service.calls).toBe(1);
    });

    it('a {req.…} key placeholder on a provider method fails at bootstrap', async () => {
      @Injectable()
      class ProviderUsingRequest {
        @Cache({ ttl: '1m', key: 'me:{req.user.id}' })
        async me(): Promise<number> {
          return 1;
        }
      }
      const error = await rejection(compile([CashewsModule.forRoot('mem://')], [ProviderUsingRequest]));
      expect(error).toBeInstanceOf(CashewsConfigError);
      expect(error.message).toContain('ProviderUsingRequest.me');
      expect(error.message).toMatch(/\{req\./);
      expect(error.message).toMatch(/controller/);
    });
  });

  describe('decorator errors when the class is defined', () => {
    it('an unknown key placeholder', () => {
      expect(() => {
        class X {
          @Cache({ ttl: '1m', key: '{nope}' })
          m(a: string): string {
            return a;
          }
        }
        return X;
      }).toThrow(CashewsConfigError);
      expect(() => {
        class X {
          @Cache({ ttl: '1m', key: '{nope}' })
          m(a: string): string {
            return a;
          }
        }
        return X;
      }).toThrow(/nope/);
    });

    it('a known placeholder is accepted (control)', () => {
      expect(() => {
        class X {
          @Cache({ ttl: '1m', key: 'k:{a}' })
          m(a: string): string {
            return a;
          }
        }
        return X;
      }).not.toThrow();
    });

    it('a bad ttl', () => {
      const define = () => {
        class X {
          @Cache({ ttl: 'soon' as never })
          m(a: string): string {
            return a;
          }
        }
        return X;
      };
      expect(define).toThrow(CashewsConfigError);
      expect(define).toThrow(/ttl/);
      expect(define).toThrow(/soon/);
    });

    it('an unknown decorator option (typo)', () => {
      const define = () => {
        class X {
          @Cache({ tll: '1m' } as unknown as CacheDecoratorOptions)
          m(a: string): string {
            return a;
          }
        }
        return X;
      };
      expect(define).toThrow(CashewsConfigError);
      expect(define).toThrow(/unknown option "tll"/);
      expect(define).toThrow(/ttl/);
    });

    it.each([
      ['@Early', 'earlyTtl', () => Early({ ttl: '1s', earlyTtl: '1s' })],
      ['@Soft', 'softTtl', () => Soft({ ttl: '1s', softTtl: '2s' })],
    ])('%s: a refresh age not shorter than ttl (the value would expire before any refresh)', (_name, option, make) => {
      expect(make).toThrow(CashewsConfigError);
      expect(make).toThrow(new RegExp(`${option} \\(\\d+ ms\\) must be shorter than ttl \\(1000 ms\\)`));
    });

    it('@Early and @Soft default the refresh age to a third of ttl', () => {
      expect(() => Early({ ttl: '3s' })).not.toThrow();
      expect(() => Soft({ ttl: 3 })).not.toThrow();
    });
  });

  describeRedis('shutdown', () => {
    afterAll(() => flushRedisDb(DB));

    it('app.close() ends the Redis connection and closes the memory instance', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [CashewsModule.forRoot('mem://', { name: 'local' }), CashewsModule.forRoot(must(redisUrl(DB)))],
        providers: [UsesDefault],
      }).compile();
      const app = moduleRef.createNestApplication();
      await app.init();
      const redis = app.get(UsesDefault).cache;
      const local = app.get<CacheService>(getCacheToken('local'));
      expect(local.backend).toBeInstanceOf(MemoryBackend);
      const client = (redis.backend as RedisBackend).client;
      expect(client.status).toBe('ready');
      expect(await redis.set('shutdown:k', 1)).toBe(true);

      let memoryClosed = 0;
      const closeMemory = local.backend.close.bind(local.backend);
      local.backend.close = () => {
        memoryClosed += 1;
        return closeMemory();
      };

      await app.close();
      expect(memoryClosed).toBe(1);
      expect(client.status).toBe('end');
    });
  });
});
