/**
 * Values that cannot be served safely, on every backend: nesting deeper than the codec's limit is refused at
 * `set` (nothing is stored), and a stored value that cannot be served (written by something else) reads as a
 * miss, logged, instead of failing every read until it expires.
 * Redis isolation: db 12 of the discovered Redis, flushed after the file.
 */
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { CacheService, CacheValueError, createCache } from '../../lib/index.js';
import { describeRedis, flushRedisDb, rawRedis, redisUrl } from '../support/redis.js';

const DB = 12;
/** Deepest nesting the codec stores (lib/codec/value-walker.ts MAX_DEPTH). */
const LIMIT = 1000;

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
}

const backends: Array<[string, () => Promise<CacheService>]> = [
  ['mem://', () => createCache('mem://')],
  ['mem:// with secret', () => createCache('mem://', { secret: 's' })],
];
const url = redisUrl(DB);
if (url) backends.push([`redis db ${DB}`, () => createCache(url)]);

describe.each(backends)('nesting limit on %s', (_name, make) => {
  let cache: CacheService;
  beforeAll(async () => {
    cache = await make();
  });
  afterAll(async () => {
    await cache.clear();
    await cache.close();
  });

  it('refuses a value nested deeper than the limit with a CacheValueError, and stores nothing', async () => {
    for (const depth of [LIMIT + 1, 200_000]) {
      const error = await cache.set('deep', nested(depth)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CacheValueError);
      expect((error as Error).message).toMatch(/deeper than 1000 levels/);
      expect(await cache.exists('deep')).toBe(false);
    }
    // Inside a Map and a Set too: every container is one level.
    let value: unknown = 1;
    for (let i = 0; i <= LIMIT; i++) value = i % 2 ? new Map([['k', value]]) : new Set([value]);
    await expect(cache.set('deep', value)).rejects.toThrow(CacheValueError);
  });

  it('stores and serves a value exactly at the limit, which JSON.stringify can still serialize', async () => {
    const value = nested(LIMIT);
    await cache.set('at-limit', value);
    const read = await cache.get('at-limit');
    expect(read).toEqual(value);
    expect(() => JSON.stringify(read)).not.toThrow();
    // With a leaf that is stored as a tag (undefined, NaN) at the very bottom.
    let tagged: unknown = [undefined, NaN, 1n];
    for (let i = 1; i < LIMIT; i++) tagged = [tagged];
    await cache.set('at-limit-tagged', tagged);
    expect(await cache.get('at-limit-tagged')).toEqual(tagged);
  });
});

describeRedis('values written by something else on redis', () => {
  const dbUrl = redisUrl(DB) as string;
  let cache: CacheService;
  let warnings: string[];
  let warn: { mockRestore(): void };
  beforeAll(() => flushRedisDb(DB));
  // One instance per test: its burst logger would keep quiet about a second bad value within 10 s.
  beforeEach(async () => {
    warnings = [];
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
      warnings.push(String(message));
    });
    cache = await createCache(dbUrl);
  });
  afterEach(async () => {
    warn.mockRestore();
    await cache.close();
  });
  afterAll(() => flushRedisDb(DB));

  async function store(key: string, raw: string): Promise<void> {
    const client = rawRedis(dbUrl);
    try {
      await client.set(key, raw, 'EX', 60);
    } finally {
      client.disconnect();
    }
  }

  it.each([
    ['plain JSON', 'c1:p' + '['.repeat(200_000) + ']'.repeat(200_000)],
    ['plain JSON just over the limit', 'c1:p' + '['.repeat(LIMIT + 2) + ']'.repeat(LIMIT + 2)],
    ['a tagged tree', 'c1:t' + '[{"$":"S","v":'.repeat(100_000) + '[]' + '}]'.repeat(100_000)],
    ['a BigInt of a million digits', 'c1:t' + JSON.stringify({ $: 'b', v: '9'.repeat(1_000_000) })],
  ])('%s, beyond the limits, reads as a miss and is logged', async (what, raw) => {
    const key = `foreign:${what}`;
    await store(key, raw);
    // Compared as a word: Jest itself could not print a value this deep.
    const served = (value: unknown) => (value === 'miss' ? 'miss' : 'served');
    expect(served(await cache.get(key, 'miss'))).toBe('miss');
    expect(served((await cache.getMany([key], 'miss'))[0])).toBe('miss');
    // The key is still there (a miss, not a delete), and the warning names it.
    expect(await cache.exists(key)).toBe(true);
    expect(warnings.some((message) => message.includes(`"${key}"`))).toBe(true);
  });

  // A signed instance accepts unsigned integers only as its own writes and INCRBY leave them (the exception the README
  // states): digits past the safe range, leading zeros and -0 read as some other number.
  it.each([
    ['an integer past the safe range', '9999999999999999'],
    ['a negative one', '-9999999999999999'],
    ['leading zeros', '0000000000000042'],
    ['negative zero', '-0'],
  ])('on a signed instance, %s written unsigned reads as a miss', async (_what, raw) => {
    const signed = await createCache(`${dbUrl}${dbUrl.includes('?') ? '&' : '?'}secret=s3cr3t`);
    try {
      await store('foreign:int', raw);
      expect(await signed.get('foreign:int', 'miss')).toBe('miss');
      await store('foreign:int', '42');
      expect(await signed.get('foreign:int')).toBe(42);
      await store('foreign:int', '-9007199254740991');
      expect(await signed.get('foreign:int')).toBe(-9007199254740991);
    } finally {
      await signed.close();
    }
  });

  it('a deep value within the limit written by something else is served', async () => {
    await store('foreign:ok', 'c1:p' + '['.repeat(LIMIT) + ']'.repeat(LIMIT));
    expect(JSON.stringify(await cache.get('foreign:ok'))).toBe('['.repeat(LIMIT) + ']'.repeat(LIMIT));
  });
});
