/**
 * The built-in command hooks: addPrefix, lowerKeys, valueSizeLimit and onCommand, on mem:// and Redis (the worker's
 * private Redis, database 11, flushed after the file), through commands and through decorated methods.
 */
import { jest } from '@jest/globals';
import { Injectable, Logger, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  Cache,
  CacheKeyError,
  CacheService,
  CashewsConfigError,
  CashewsModule,
  MISS,
  addPrefix,
  createCache,
  lowerKeys,
  onCommand,
  valueSizeLimit,
  type CommandHook,
} from '../../lib/index.js';
import { flushRedisDb, redisUrl } from '../support/redis.js';

const DB = 11;

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const key of keys) out.push(key);
  return out.sort();
}

describe.each([
  ['mem://', () => 'mem://'],
  ['redis', () => redisUrl(DB)!],
])('built-in hooks (%s)', (_name, url) => {
  const open: CacheService[] = [];
  const make = async (hooks: CommandHook[]): Promise<CacheService> => {
    const cache = await createCache(url(), { hooks });
    open.push(cache);
    return cache;
  };
  afterEach(async () => {
    await open[0]?.clear();
    await Promise.all(open.splice(0).map((cache) => cache.close()));
  });
  afterAll(() => (url().startsWith('redis') ? flushRedisDb(DB) : undefined));

  describe('addPrefix', () => {
    it('stores under the prefix, and scan answers keys without it', async () => {
      const billing = await make([addPrefix('billing:')]);
      await billing.set('invoice:1', { total: 10 }, { ttl: '1m' });
      await billing.set('invoice:2', { total: 20 }, { ttl: '1m' });
      expect(await billing.get('invoice:1')).toEqual({ total: 10 });
      expect(await collect(billing.scan('invoice:*'))).toEqual(['invoice:1', 'invoice:2']);
      const pairs: Array<[string, unknown]> = [];
      for await (const pair of billing.getMatch('invoice:*')) pairs.push(pair);
      expect(pairs.sort()).toEqual([
        ['invoice:1', { total: 10 }],
        ['invoice:2', { total: 20 }],
      ]);
      if (url().startsWith('redis')) {
        // Another instance on the same database sees the real keys.
        const plain = await createCache(url());
        open.push(plain);
        expect(await plain.get('billing:invoice:1')).toEqual({ total: 10 });
        expect(await plain.get('invoice:1')).toBeUndefined();
      }
    });

    it('two prefixes on one database keep apart: patterns, tags, counters and locks', async () => {
      if (!url().startsWith('redis')) return expect(url()).toBe('mem://'); // one process-local store per instance
      const a = await make([addPrefix('a:')]);
      const b = await make([addPrefix('b:')]);
      await a.set('k', 'A', { ttl: '1m', tags: ['t'] });
      await b.set('k', 'B', { ttl: '1m', tags: ['t'] });
      expect(await a.deleteTags('t')).toBe(1);
      expect(await b.get('k')).toBe('B');
      await a.set('x:1', 1, { ttl: '1m' });
      await b.set('x:1', 2, { ttl: '1m' });
      expect(await a.deleteMatch('x:*')).toBe(1);
      expect(await b.get('x:1')).toBe(2);
      expect(await a.incr('n')).toBe(1);
      expect(await b.incr('n')).toBe(1);
      await a.lock('job', '5s', async () => {
        expect(await a.isLocked('job')).toBe(true);
        expect(await b.isLocked('job')).toBe(false);
      });
    });

    it('refuses an empty prefix or one with "*"', () => {
      expect(() => addPrefix('')).toThrow(CashewsConfigError);
      expect(() => addPrefix('a*')).toThrow(/non-empty string without "\*"/);
    });
  });

  it('lowerKeys: one entry whatever the case, patterns included', async () => {
    const cache = await make([lowerKeys()]);
    await cache.set('User:Ada@Example.com', 1, { ttl: '1m' });
    expect(await cache.get('user:ada@example.com')).toBe(1);
    expect(await cache.exists('USER:ADA@EXAMPLE.COM')).toBe(true);
    expect(await cache.deleteMatch('USER:*')).toBe(1);
    expect(await cache.get('user:ada@example.com')).toBeUndefined();
  });

  describe('a key a hook rewrites into reserved storage is refused', () => {
    // The reserved prefixes were checked before the hooks ran: lowerKeys() turned 'CASHEWS:PROTECT:JOB' into the
    // state of the lock 'job', and addPrefix('cashews:') turned 'protect:cashews:job' into it.
    it('lowerKeys(): protection state stays out of reach of every cache command', async () => {
      const cache = await make([lowerKeys()]);
      expect(await cache.setLock('job', 'owner', '1m')).toBe(true);
      await expect(cache.get('CASHEWS:PROTECT:JOB')).rejects.toThrow(CacheKeyError);
      await expect(cache.get('CASHEWS:PROTECT:JOB')).rejects.toThrow(/after the command hooks.*cashews:protect:job/);
      await expect(cache.getRaw('Cashews:Protect:Job')).rejects.toThrow(CacheKeyError);
      await expect(cache.delete('CASHEWS:PROTECT:JOB')).rejects.toThrow(CacheKeyError);
      await expect(cache.set('CASHEWS:PROTECT:JOB', 'mine')).rejects.toThrow(CacheKeyError);
      await expect(cache.deleteMany(['a', 'CASHEWS:PROTECT:JOB'])).rejects.toThrow(CacheKeyError);
      await expect(cache.setMany([['CASHEWS:PROTECT:JOB', 1]])).rejects.toThrow(CacheKeyError);
      await expect(cache.deleteMatch('Cashews:Protect:*')).rejects.toThrow(CacheKeyError);
      await expect(cache.expire('CASHEWS:PROTECT:JOB', '1s')).rejects.toThrow(CacheKeyError);
      await expect(collect(cache.scan('CASHEWS:PROTECT:*'))).rejects.toThrow(CacheKeyError);
      expect(await cache.isLocked('job')).toBe(true);
      // Locks and limits themselves still work through the hook: their names are not cache keys.
      expect(await cache.unlock('JOB', 'owner')).toBe(true);
      expect(await cache.isLocked('job')).toBe(false);
    });

    it('addPrefix("cashews:"): a cache key cannot become the state of a lock', async () => {
      const cache = await make([addPrefix('cashews:')]);
      expect(await cache.setLock('job', 'owner', '1m')).toBe(true);
      await expect(cache.get('protect:cashews:job')).rejects.toThrow(CacheKeyError);
      await expect(cache.deleteMatch('protect:*')).rejects.toThrow(CacheKeyError);
      expect(await cache.isLocked('job')).toBe(true);
      // Ordinary keys under that prefix are not affected.
      await cache.set('user:1', 1, { ttl: '1m' });
      expect(await cache.get('user:1')).toBe(1);
    });

    it('lowerKeys(): tag storage stays out of reach too', async () => {
      const cache = await make([lowerKeys()]);
      await cache.set('user:1', 1, { ttl: '1m', tags: ['users'] });
      await expect(cache.set('CASHEWS:TAG:USERS', 'x')).rejects.toThrow(CacheKeyError);
      await expect(cache.set('CASHEWS:TAGS-OF:USER:1', 'x')).rejects.toThrow(CacheKeyError);
      expect(await cache.deleteTags('users')).toBe(1);
      expect(await cache.get('user:1')).toBeUndefined();
    });
  });

  it('tag storage keys are refused like protection state, with or without hooks', async () => {
    // A raw write over a tag index (a sorted set on Redis) made deleteTags fail with WRONGTYPE and left the
    // tagged entries in place.
    const cache = await make([]);
    await cache.set('user:42:profile', { name: 'old' }, { ttl: '1m', tags: ['user:42'] });
    await expect(cache.set('cashews:tag:user:42', 'x')).rejects.toThrow(CacheKeyError);
    await expect(cache.set('cashews:tags-of:user:42:profile', 'x')).rejects.toThrow(CacheKeyError);
    await expect(cache.delete('cashews:tag:user:42')).rejects.toThrow(/reserved/);
    await expect(cache.get('cashews:tags-of:user:42:profile')).rejects.toThrow(CacheKeyError);
    await expect(cache.deleteMatch('cashews:tag:*')).rejects.toThrow(CacheKeyError);
    expect(await cache.deleteTags('user:42')).toBe(1);
    expect(await cache.get('user:42:profile')).toBeUndefined();
    // Keys that only look alike are ordinary keys.
    await cache.set('cashews:tagline', 1, { ttl: '1m' });
    expect(await cache.get('cashews:tagline')).toBe(1);
  });

  describe('valueSizeLimit', () => {
    it('skips values outside [min, max], answers false, counts them in stats', async () => {
      const cache = await make([valueSizeLimit({ min: 4, max: '1KB' })]);
      expect(await cache.set('big', 'x'.repeat(2_000), { ttl: '1m' })).toBe(false);
      expect(await cache.set('tiny', 1, { ttl: '1m' })).toBe(false);
      expect(await cache.set('fine', { name: 'Ada' }, { ttl: '1m' })).toBe(true);
      await cache.setMany({ a: 'x'.repeat(5_000), b: 'ok value' }, { ttl: '1m' });
      expect(await cache.get('big')).toBeUndefined();
      expect(await cache.get('tiny')).toBeUndefined();
      expect(await cache.getMany(['fine', 'a', 'b'])).toEqual([{ name: 'Ada' }, undefined, 'ok value']);
      expect(cache.stats().hooks).toEqual([{ name: 'valueSizeLimit', stats: { tooSmall: 1, tooLarge: 2 } }]);
    });

    it('counts UTF-8 bytes, not characters', async () => {
      const cache = await make([valueSizeLimit({ max: 100 })]);
      expect(await cache.set('ascii', 'a'.repeat(90), { ttl: '1m' })).toBe(true);
      expect(await cache.set('emoji', '😀'.repeat(30), { ttl: '1m' })).toBe(false); // 120 bytes
    });

    it.each([
      [{ max: '1XB' }, /Invalid valueSizeLimit max: "1XB"/],
      [{ min: -1 }, /Invalid valueSizeLimit min: -1/],
      [{ min: '2KB', max: '1KB' }, /min \(2048 bytes\) is above max \(1024 bytes\)/],
    ])('refuses %p', (options, message) => {
      expect(() => valueSizeLimit(options)).toThrow(CashewsConfigError);
      expect(() => valueSizeLimit(options)).toThrow(message);
    });
  });

  describe('onCommand', () => {
    it('calls back after the commands named, with key and answer', async () => {
      const seen: Array<[string | undefined, unknown]> = [];
      const cache = await make([
        onCommand(['set', 'get'], (key, result) => seen.push([key, result === MISS ? 'MISS' : result])),
      ]);
      await cache.set('k', 'v', { ttl: '1m' });
      await cache.get('k');
      await cache.get('nothing');
      await cache.delete('k'); // not named
      expect(seen).toEqual([
        ['k', true],
        ['k', 'v'],
        ['nothing', 'MISS'],
      ]);
    });

    it("a callback that throws is logged; the command's answer stands", async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      try {
        const cache = await make([
          onCommand('set', () => {
            throw new Error('audit down');
          }),
        ]);
        expect(await cache.set('k', 'v', { ttl: '1m' })).toBe(true);
        expect(await cache.get('k')).toBe('v');
        expect(warn).toHaveBeenCalledWith(expect.stringContaining('onCommand(set) callback failed: audit down'));
      } finally {
        warn.mockRestore();
      }
    });

    it('refuses an unknown command or a missing callback', () => {
      expect(() => onCommand('sett' as 'set', () => undefined)).toThrow(
        /unknown command "sett"; accepted: get, getMany/,
      );
      expect(() => onCommand('set', undefined as never)).toThrow(CashewsConfigError);
    });
  });
});

describe('built-in hooks on decorated methods', () => {
  @Injectable()
  class Reports {
    runs = 0;
    @Cache({ ttl: '1m', key: 'report:{name}' })
    async build(name: string, size: number): Promise<string> {
      this.runs++;
      return 'x'.repeat(size) + name;
    }
  }

  let app: INestApplicationContext | undefined;
  afterEach(() => app?.close());

  async function start(hooks: CommandHook[]): Promise<{ reports: Reports; cache: CacheService }> {
    const moduleRef = await Test.createTestingModule({
      imports: [CashewsModule.forRoot('mem://', { hooks })],
      providers: [Reports],
    }).compile();
    app = await moduleRef.init();
    return { reports: app.get(Reports), cache: app.get(CacheService) };
  }

  it('addPrefix: the decorated key lives under the prefix', async () => {
    const { reports, cache } = await start([addPrefix('v2:')]);
    await reports.build('daily', 1);
    await reports.build('daily', 1);
    expect(reports.runs).toBe(1);
    expect(await collect(cache.backend.scan('*'))).toEqual(['v2:report:daily']);
  });

  it('valueSizeLimit: a result too large is returned every time but never stored', async () => {
    const { reports, cache } = await start([valueSizeLimit({ max: 100 })]);
    expect(await reports.build('big', 500)).toHaveLength(503);
    expect(await reports.build('big', 500)).toHaveLength(503);
    expect(reports.runs).toBe(2);
    await reports.build('small', 1);
    await reports.build('small', 1);
    expect(reports.runs).toBe(3);
    expect(cache.stats().hooks[0].stats).toEqual({ tooSmall: 0, tooLarge: 2 });
  });
});
