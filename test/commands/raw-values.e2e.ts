/**
 * `getRaw`/`setRaw`: the string as stored, no codec, no signature check. Where values are encoded (Redis, and memory
 * with a `secret`) that is the encoded form, shared with programs in other languages; on `mem://` without `secret`
 * nothing is encoded (the clone codec keeps copies of values), which the second suite pins down. Redis: db 0 of the
 * worker's Redis, keys under a random prefix, deleted after each test.
 */
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { CacheService, CacheValueError, createCache } from '../../lib/index.js';
import { rawRedis, redisUrl, withQuery } from '../support/redis.js';

const SECRET = 'raw-values-secret';

describe.each([
  ['redis', () => redisUrl()!, false],
  ['redis with a secret', () => withQuery(redisUrl()!, { secret: SECRET }), true],
  ['mem:// with a secret (string codec)', () => `mem://?secret=${SECRET}`, true],
])('getRaw and setRaw where values are encoded (%s)', (_name, url, signed) => {
  let cache: CacheService;
  let k: string;

  beforeEach(async () => {
    cache = await createCache(url(), { ttl: '5m' });
    k = `raw:${process.pid}:${Math.random().toString(36).slice(2)}:`;
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await cache.deleteMatch(`${k}*`);
    await cache.close();
  });

  it('getRaw answers the encoded form of a value written by set, digits for an integer', async () => {
    await cache.set(`${k}obj`, { a: 1 });
    const raw = await cache.getRaw(`${k}obj`);
    expect(raw).toMatch(signed ? /^c1s:[\w-]+:p\{"a":1\}$/ : /^c1:p\{"a":1\}$/);
    await cache.set(`${k}n`, 42);
    await expect(cache.getRaw(`${k}n`)).resolves.toBe('42');
    await cache.incr(`${k}views`, 3);
    await expect(cache.getRaw(`${k}views`)).resolves.toBe('3');
    await expect(cache.getRaw(`${k}missing`)).resolves.toBeUndefined();
  });

  it('setRaw stores the string as given; get decodes it as a cashews value, a foreign one is a logged miss', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await expect(cache.setRaw(`${k}foreign`, '{"from":"go"} é 🥜')).resolves.toBe(true);
    await expect(cache.getRaw(`${k}foreign`)).resolves.toBe('{"from":"go"} é 🥜');
    await expect(cache.get(`${k}foreign`, 'default')).resolves.toBe('default');
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/not in the cashews format; it is treated as a miss/));
    // An unsigned cashews value is read unless the instance signs (then unsigned values are refused).
    await cache.setRaw(`${k}cashews`, 'c1:p[1,2]');
    await expect(cache.get(`${k}cashews`, 'miss')).resolves.toEqual(signed ? 'miss' : [1, 2]);
    await cache.setRaw(`${k}int`, '7');
    await expect(cache.get(`${k}int`)).resolves.toBe(7);
    await cache.setRaw(`${k}empty`, '');
    await expect(cache.getRaw(`${k}empty`)).resolves.toBe('');
  });

  it('a signed value copied with getRaw/setRaw is read where it was signed, a miss elsewhere', async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await cache.set(`${k}a`, 'payload');
    const raw = (await cache.getRaw(`${k}a`))!;
    await cache.setRaw(`${k}b`, raw);
    await expect(cache.get(`${k}b`, 'miss')).resolves.toBe(signed ? 'miss' : 'payload');
    await cache.setRaw(`${k}a`, raw);
    await expect(cache.get(`${k}a`)).resolves.toBe('payload');
  });

  it("setRaw's ttl is set's: given, the instance's default, or 'never'", async () => {
    await cache.setRaw(`${k}given`, 'v', { ttl: '1m' });
    await cache.setRaw(`${k}default`, 'v');
    await cache.setRaw(`${k}never`, 'v', { ttl: 'never' });
    const given = await cache.getExpire(`${k}given`);
    expect(given).toBeGreaterThan(0);
    expect(given).toBeLessThanOrEqual(60_000);
    const fallback = await cache.getExpire(`${k}default`);
    expect(fallback).toBeGreaterThan(60_000);
    expect(fallback).toBeLessThanOrEqual(300_000);
    await expect(cache.getExpire(`${k}never`)).resolves.toBe(-1);
  });

  it('a bitmap reads as its bytes', async () => {
    await cache.incrBits(`${k}bits`, [0, 1], { size: 8, by: 0x41 });
    await expect(cache.getRaw(`${k}bits`)).resolves.toBe('AA');
  });
});

describe('getRaw and setRaw on Redis, shared with another program', () => {
  let cache: CacheService;
  const k = `raw:${process.pid}:${Math.random().toString(36).slice(2)}:`;

  beforeEach(async () => {
    cache = await createCache(redisUrl()!);
  });
  afterEach(async () => {
    await cache.deleteMatch(`${k}*`);
    await cache.close();
  });

  it('reads what another client wrote, and writes what it reads, byte for byte', async () => {
    const other = rawRedis(redisUrl()!);
    try {
      await other.set(`${k}from-go`, 'sessions:{"user":42} ü');
      await expect(cache.getRaw(`${k}from-go`)).resolves.toBe('sessions:{"user":42} ü');
      await cache.setRaw(`${k}to-go`, 'plain text, no codec');
      await expect(other.get(`${k}to-go`)).resolves.toBe('plain text, no codec');
      await other.sadd(`${k}set`, 'a');
      await expect(cache.getRaw(`${k}set`)).rejects.toThrow(/holds another type, not a string/);
    } finally {
      other.disconnect();
    }
  });
});

describe('getRaw and setRaw on mem:// without a secret (clone codec: nothing is encoded)', () => {
  let cache: CacheService;

  beforeEach(async () => {
    cache = await createCache('mem://');
  });
  afterEach(() => cache.close());

  it('a string is raw as itself, whether stored by setRaw or by set', async () => {
    await cache.setRaw('raw', '{"a":1}');
    await expect(cache.getRaw('raw')).resolves.toBe('{"a":1}');
    // No codec to decode it: get answers the string itself (on Redis a foreign string is a miss).
    await expect(cache.get('raw')).resolves.toBe('{"a":1}');
    await cache.set('text', 'hello');
    await expect(cache.getRaw('text')).resolves.toBe('hello'); // Redis: 'c1:p"hello"'
    await expect(cache.getSize('raw')).resolves.toBe(7);
  });

  it('an integer reads as its digits, a bitmap as its bytes', async () => {
    await cache.set('n', 42);
    await expect(cache.getRaw('n')).resolves.toBe('42');
    await cache.incr('views', 3);
    await expect(cache.getRaw('views')).resolves.toBe('3');
    await cache.incrBits('bits', [0, 1], { size: 8, by: 0x41 });
    await expect(cache.getRaw('bits')).resolves.toBe('AA');
  });

  it('any other value is kept as a copy, not a string: getRaw refuses it and leaves it', async () => {
    await cache.set('obj', { a: 1 });
    await cache.set('float', 1.5);
    for (const key of ['obj', 'float']) {
      const error: unknown = await cache.getRaw(key).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(CacheValueError);
      expect((error as Error).message).toMatch(/holds a JS value \(memory without a secret stores copies/);
    }
    await expect(cache.get('obj')).resolves.toEqual({ a: 1 });
  });
});
