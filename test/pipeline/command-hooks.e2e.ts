/**
 * The command pipeline: every command of an instance (decorated methods' reads and writes included) passes
 * through the run-time switch, then the user's hooks in order, then the engine. Runs on mem:// and Redis
 * (the worker's private Redis, database 9, flushed after the file).
 */
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  Cache,
  CacheService,
  CashewsConfigError,
  CashewsModule,
  MISS,
  createCache,
  type CommandCall,
  type CommandHook,
} from '../../lib/index.js';
import { flushRedisDb, redisUrl } from '../support/redis.js';

const DB = 9;

/** Records every call it sees, with the answer, then passes it on unchanged. */
function recorder(name: string, seen: string[]): CommandHook {
  return {
    name,
    async handle(call, next) {
      const result = await next(call);
      seen.push(`${name}:${call.command}:${describeArgs(call)}=${String(result === MISS ? 'MISS' : result)}`);
      return result;
    },
  };
}

function describeArgs(call: CommandCall): string {
  return call.args.length ? String(call.args[0]) : '';
}

const lowerKeys: CommandHook = {
  name: 'lowerKeys',
  handle(call, next) {
    if (call.command === 'get') return next({ command: 'get', args: [call.args[0].toLowerCase()] });
    if (call.command === 'set') {
      const [key, value, options] = call.args;
      return next({ command: 'set', args: [key.toLowerCase(), value, options] });
    }
    return next(call);
  },
};

describe.each([
  ['mem://', () => 'mem://'],
  ['redis', () => redisUrl(DB)!],
])('command hooks (%s)', (_name, url) => {
  let cache: CacheService;
  afterEach(() => cache?.close());
  afterAll(() => (url().startsWith('redis') ? flushRedisDb(DB) : undefined));

  it('runs hooks in the order given, around the backend, for every command', async () => {
    const seen: string[] = [];
    cache = await createCache(url(), { hooks: [recorder('outer', seen), recorder('inner', seen)] });
    await cache.set('hooks:a', 1, { ttl: '1m' });
    expect(await cache.get('hooks:a')).toBe(1);
    expect(await cache.get('hooks:missing', 'd')).toBe('d');
    expect(await cache.incr('hooks:n')).toBe(1);
    // The inner hook settles first: it is closer to the backend.
    expect(seen).toEqual([
      'inner:set:hooks:a=true',
      'outer:set:hooks:a=true',
      'inner:get:hooks:a=1',
      'outer:get:hooks:a=1',
      'inner:get:hooks:missing=MISS',
      'outer:get:hooks:missing=MISS',
      'inner:incr:hooks:n=1',
      'outer:incr:hooks:n=1',
    ]);
  });

  it('a hook may rewrite the call: keys lower-cased on reads and writes', async () => {
    cache = await createCache(url(), { hooks: [lowerKeys] });
    await cache.set('Hooks:User:1', 'Ada', { ttl: '1m' });
    expect(await cache.get('hooks:user:1')).toBe('Ada');
    expect(await cache.get('HOOKS:USER:1')).toBe('Ada');
    expect(await cache.exists('Hooks:User:1')).toBe(false); // exists is not rewritten by this hook
    expect(await cache.exists('hooks:user:1')).toBe(true);
  });

  it('a hook may answer without reaching the backend, and change the answer', async () => {
    const blocked: CommandHook = {
      name: 'readOnlyForTmp',
      handle(call, next) {
        if (call.command === 'set' && call.args[0].startsWith('tmp:')) return Promise.resolve(false);
        return next(call);
      },
    };
    cache = await createCache(url(), { hooks: [blocked] });
    expect(await cache.set('tmp:x', 1, { ttl: '1m' })).toBe(false);
    expect(await cache.set('hooks:kept', 1, { ttl: '1m' })).toBe(true);
    expect(cache.stats().backends[0].commands).toBe(1); // only the second set reached the backend
    expect(await cache.get('tmp:x')).toBeUndefined();
  });

  it('the run-time switch answers before any hook runs; enable() lets calls through again', async () => {
    const seen: string[] = [];
    cache = await createCache(url(), { hooks: [recorder('h', seen)] });
    cache.disable('get');
    expect(await cache.get('hooks:off', 'fallback')).toBe('fallback');
    expect(seen).toEqual([]);
    cache.enable();
    await cache.get('hooks:off');
    expect(seen).toEqual(['h:get:hooks:off=MISS']);
  });

  it('a hook that throws fails its command with that error, even in safe mode', async () => {
    const faulty: CommandHook = {
      name: 'faulty',
      handle() {
        throw new Error('hook bug');
      },
    };
    cache = await createCache(url(), { hooks: [faulty] });
    await expect(cache.get('hooks:x')).rejects.toThrow('hook bug');
    await expect(cache.set('hooks:x', 1)).rejects.toThrow('hook bug');
  });

  it('addHook adds a hook at run time, after the configured ones', async () => {
    const seen: string[] = [];
    cache = await createCache(url(), { hooks: [recorder('first', seen)] });
    await cache.get('hooks:before');
    cache.addHook(recorder('second', seen));
    await cache.get('hooks:after');
    expect(seen).toEqual(['first:get:hooks:before=MISS', 'second:get:hooks:after=MISS', 'first:get:hooks:after=MISS']);
  });

  it('protection commands pass through the pipeline with their names', async () => {
    const seen: string[] = [];
    cache = await createCache(url(), { hooks: [recorder('h', seen)] });
    await cache.lock('hooks:job', '1s', () => 'done');
    expect(seen).toEqual(['h:setLock:hooks:job=acquired', 'h:unlock:hooks:job=true']);
  });
});

describe('hooks and decorated methods', () => {
  @Injectable()
  class Catalogue {
    runs = 0;
    @Cache({ ttl: '1m', key: 'hooks:product:{id}' })
    async findOne(id: string): Promise<string> {
      this.runs++;
      return `product ${id}`;
    }
  }

  let app: INestApplicationContext | undefined;
  afterEach(() => app?.close());

  it("a decorated method's read and write pass through the instance's hooks", async () => {
    const seen: string[] = [];
    const moduleRef = await Test.createTestingModule({
      imports: [CashewsModule.forRoot('mem://', { hooks: [recorder('h', seen)] })],
      providers: [Catalogue],
    }).compile();
    app = await moduleRef.init();
    const catalogue = app.get(Catalogue);
    expect(await catalogue.findOne('1')).toBe('product 1');
    expect(await catalogue.findOne('1')).toBe('product 1');
    expect(catalogue.runs).toBe(1);
    expect(seen.filter((line) => line.includes('hooks:product'))).toEqual([
      "h:get:hooks:product:'1'=MISS",
      "h:set:hooks:product:'1'=true",
      "h:get:hooks:product:'1'=product 1",
    ]);
  });

  it('enable=0: decorated methods run as if undecorated and no command reaches a hook', async () => {
    const seen: string[] = [];
    const moduleRef = await Test.createTestingModule({
      imports: [CashewsModule.forRoot('mem://?enable=0', { hooks: [recorder('h', seen)] })],
      providers: [Catalogue],
    }).compile();
    app = await moduleRef.init();
    const catalogue = app.get(Catalogue);
    await catalogue.findOne('1');
    await catalogue.findOne('1');
    expect(catalogue.runs).toBe(2);
    expect(seen).toEqual([]);
    const cache = app.get(CacheService);
    cache.enable(); // enable=0 is for good
    expect(await cache.set('hooks:k', 1)).toBe(false);
  });
});

describe('invalid hooks', () => {
  it.each([
    ['not an array', { hooks: 'audit' }, /Invalid cache option "hooks": expected an array/],
    ['a function instead of a hook', { hooks: [() => undefined] }, /Invalid command hook given as a function/],
    ['a hook without handle', { hooks: [{ name: 'x' }] }, /Invalid command hook "x"/],
  ])('%s: CashewsConfigError at creation', async (_label, options, message) => {
    const error: unknown = await createCache('mem://', options as never).then(
      (cache) => (void cache.close(), new Error('created')),
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(CashewsConfigError);
    expect((error as Error).message).toMatch(message);
  });

  it('at bootstrap through CashewsModule.forRoot', async () => {
    const compiled = Test.createTestingModule({
      imports: [CashewsModule.forRoot('mem://', { hooks: [{ name: 'broken' } as unknown as CommandHook] })],
    }).compile();
    await expect(compiled).rejects.toThrow(/Invalid command hook "broken"/);
  });
});
