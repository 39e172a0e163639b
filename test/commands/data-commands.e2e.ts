/**
 * The commands of issue #13 through CacheService (bitmaps, sliding counters, sets, key count and size, raw values):
 * what they answer, that bad arguments and protected keys are refused before anything reaches the backend, that
 * each passes through the pipeline (hooks, run-time switch), and what safe mode does when the backend fails. The
 * semantics of each structure on every backend are in the conformance suite (lib/testing/backend-conformance.ts).
 * Runs on mem:// and Redis (db 0 of the worker's Redis, keys under a random prefix, deleted after each test).
 */
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { ChaosBackend } from '../../lib/backends/chaos.backend.js';
import {
  CacheBackendError,
  CacheKeyError,
  CacheService,
  CacheValueError,
  CashewsConfigError,
  MemoryBackend,
  RedisBackend,
  createCache,
  resolveCacheConfig,
  type Backend,
  type CommandHook,
} from '../../lib/index.js';
import { redisUrl } from '../support/redis.js';

type Call = (cache: CacheService, key: string) => Promise<unknown>;

/** One call of each new command, in the order a hook must see them. */
const EVERY_COMMAND: ReadonlyArray<[name: string, call: Call]> = [
  ['getBits', (c, k) => c.getBits(`${k}bits`, [1, 2], { size: 4 })],
  ['incrBits', (c, k) => c.incrBits(`${k}bits`, [1], { size: 4, by: 3 })],
  ['sliceIncr', (c, k) => c.sliceIncr(`${k}slice`, 0, 10, { max: 5 })],
  ['setAdd', (c, k) => c.setAdd(`${k}set`, ['a', 'b'])],
  ['setRemove', (c, k) => c.setRemove(`${k}set`, ['a'])],
  ['setPop', (c, k) => c.setPop(`${k}set`)],
  ['getKeysCount', (c) => c.getKeysCount()],
  ['getSize', (c, k) => c.getSize(`${k}set`)],
  ['setRaw', (c, k) => c.setRaw(`${k}raw`, 'r')],
  ['getRaw', (c, k) => c.getRaw(`${k}raw`)],
];

/** Calls refused before the backend: [label, call, error class, what the message must say]. */
const BAD_ARGUMENTS: ReadonlyArray<[string, Call, typeof CacheValueError | typeof CashewsConfigError, RegExp]> = [
  ['a fractional index', (c, k) => c.getBits(k, [1.5]), CacheValueError, /"indexes" must hold integers from 0 to/],
  ['a negative index', (c, k) => c.incrBits(k, [-1]), CacheValueError, /"indexes" must hold integers from 0 to/],
  ['an index past 2^32 bits', (c, k) => c.getBits(k, [2 ** 28], { size: 16 }), CacheValueError, /0 to 268435455/],
  ['indexes not in an array', (c, k) => c.getBits(k, 3 as never), CacheValueError, /"indexes" must be an array/],
  ['size 0', (c, k) => c.incrBits(k, [1], { size: 0 }), CacheValueError, /"size" must be an integer from 1 to 16/],
  ['size 17', (c, k) => c.getBits(k, [1], { size: 17 }), CacheValueError, /"size" must be an integer from 1 to 16/],
  ['a fractional by', (c, k) => c.incrBits(k, [1], { by: 0.5 }), CacheValueError, /"by" must be a safe integer/],
  ['a ttl without unit', (c, k) => c.incrBits(k, [1], { ttl: '10' }), CashewsConfigError, /"ttl".*has no unit/],
  ['start NaN', (c, k) => c.sliceIncr(k, NaN, 1, { max: 1 }), CacheValueError, /"start" must be a finite number/],
  ['start after end', (c, k) => c.sliceIncr(k, 2, 1, { max: 1 }), CacheValueError, /"start" must not be after/],
  ['max 0', (c, k) => c.sliceIncr(k, 0, 1, { max: 0 }), CacheValueError, /"max" must be an integer of at least 1/],
  ['no options', (c, k) => c.sliceIncr(k, 0, 1, undefined as never), CacheValueError, /"max" must be an integer/],
  ['a zero ttl', (c, k) => c.sliceIncr(k, 0, 1, { max: 1, ttl: 0 }), CashewsConfigError, /greater than zero/],
  ['a number member', (c, k) => c.setAdd(k, ['a', 1 as never]), CacheValueError, /"members" must be an array of/],
  ['an undefined member', (c, k) => c.setAdd(k, [undefined as never]), CacheValueError, /got a member undefined/],
  ['members as a string', (c, k) => c.setRemove(k, 'a' as never), CacheValueError, /"members" must be an array/],
  ['a negative count', (c, k) => c.setPop(k, -1), CacheValueError, /"count" must be an integer from 0/],
  ['a fractional count', (c, k) => c.setPop(k, 1.5), CacheValueError, /"count" must be an integer from 0/],
  ['a raw number', (c, k) => c.setRaw(k, 42 as never), CacheValueError, /"raw" must be a string/],
  ['a raw ttl of 0', (c, k) => c.setRaw(k, 'r', { ttl: 0 }), CashewsConfigError, /ttl: 'never'/],
];

describe.each([
  ['mem://', () => 'mem://', (): Backend => new MemoryBackend({ size: 100, checkInterval: 0 })],
  ['redis', () => redisUrl()!, (url: string): Backend => new RedisBackend(resolveCacheConfig(url))],
])('bitmaps, sliding counters, sets and raw values through CacheService (%s)', (_name, url, backendOf) => {
  let cache: CacheService;
  let k: string;

  beforeEach(async () => {
    cache = await createCache(url());
    k = `cmd:${process.pid}:${Math.random().toString(36).slice(2)}:`;
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await cache.deleteMatch(`${k}*`);
    await cache.close();
  });

  it('a counting Bloom filter: incrBits counts and saturates, getBits reads, ttl applies on creation', async () => {
    const key = `${k}bloom`;
    await expect(cache.incrBits(key, [3, 70, 1_000], { size: 4, ttl: '1m' })).resolves.toEqual([1, 1, 1]);
    await expect(cache.incrBits(key, [3, 3], { size: 4, by: 10 })).resolves.toEqual([11, 15]);
    await expect(cache.incrBits(key, [70], { size: 4, by: -5 })).resolves.toEqual([0]);
    await expect(cache.getBits(key, [3, 70, 1_000, 1_001], { size: 4 })).resolves.toEqual([15, 0, 1, 0]);
    const left = await cache.getExpire(key);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(60_000);
    // Default size 1 and by 1: a plain bitmap.
    await expect(cache.incrBits(`${k}plain`, [9, 9])).resolves.toEqual([1, 1]);
    await expect(cache.getBits(`${k}plain`, [8, 9])).resolves.toEqual([0, 1]);
    await expect(cache.getExpire(`${k}plain`)).resolves.toBe(-1);
  });

  it("sliceIncr: cashews' sliding counter, max given as limit + 1", async () => {
    const key = `${k}calls`;
    const counts = [];
    for (let now = 1_000; now < 1_005; now++) {
      counts.push(await cache.sliceIncr(key, now - 1_000, now, { max: 4, ttl: '1m' }));
    }
    expect(counts).toEqual([1, 2, 3, 4, 4]);
    const left = await cache.getExpire(key);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(60_000);
    // 1 000 ms later the first four have left the slice: the key was emptied, so it starts anew, here without TTL.
    await expect(cache.sliceIncr(key, 2_004 - 1_000, 2_004, { max: 4 })).resolves.toBe(1);
    await expect(cache.getExpire(key)).resolves.toBe(-1);
  });

  it('sets hold strings as given; setPop takes one member by default', async () => {
    const key = `${k}online`;
    await expect(cache.setAdd(key, ['ada', 'grace', '{"a":1}', '42'], { ttl: '5m' })).resolves.toBe(4);
    await expect(cache.setAdd(key, ['ada'])).resolves.toBe(0);
    await expect(cache.setRemove(key, ['grace', 'linus'])).resolves.toBe(1);
    const one = await cache.setPop(key);
    expect(one).toHaveLength(1);
    const rest = await cache.setPop(key, 10);
    expect([...one, ...rest].sort()).toEqual(['42', 'ada', '{"a":1}']);
    await expect(cache.exists(key)).resolves.toBe(false);
  });

  it('getSize answers -1 for a missing key and at least the bytes stored', async () => {
    await expect(cache.getSize(`${k}missing`)).resolves.toBe(-1);
    await cache.setRaw(`${k}text`, 'x'.repeat(2_000));
    const size = await cache.getSize(`${k}text`);
    expect(size).toBeGreaterThanOrEqual(2_000);
    expect(size).toBeLessThan(4_000);
  });

  it.each(BAD_ARGUMENTS)('%s is refused before the backend', async (_label, call, errorClass, message) => {
    const before = cache.stats().backends[0];
    const error: unknown = await call(cache, `${k}bad`).then(
      () => new Error('the call resolved'),
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(errorClass);
    expect((error as Error).message).toMatch(message);
    expect(cache.stats().backends[0]).toMatchObject({ commands: before.commands, errors: 0 });
    await expect(cache.exists(`${k}bad`)).resolves.toBe(false);
  });

  it('refuses protection-state keys like every command', async () => {
    for (const [name, call] of EVERY_COMMAND.filter(([command]) => command !== 'getKeysCount')) {
      await expect(call(cache, 'cashews:protect:')).rejects.toThrow(new RegExp(`^${name}: keys and patterns`));
      await expect(call(cache, 'cashews:protect:')).rejects.toBeInstanceOf(CacheKeyError);
    }
  });

  it('a command on a key of another kind throws CacheValueError, in safe mode too, and leaves it', async () => {
    await cache.set(`${k}value`, { a: 1 });
    await expect(cache.setAdd(`${k}value`, ['a'])).rejects.toBeInstanceOf(CacheValueError);
    await expect(cache.sliceIncr(`${k}value`, 0, 1, { max: 1 })).rejects.toThrow(/holds another kind of value/);
    await expect(cache.get(`${k}value`)).resolves.toEqual({ a: 1 });
    await cache.setAdd(`${k}set`, ['a']);
    await expect(cache.incrBits(`${k}set`, [1])).rejects.toBeInstanceOf(CacheValueError);
    await expect(cache.getRaw(`${k}set`)).rejects.toBeInstanceOf(CacheValueError);
  });

  it('every command passes through the hooks, with its arguments and its answer', async () => {
    const seen: string[] = [];
    const hook: CommandHook = {
      name: 'recorder',
      async handle(call, next) {
        const result = await next(call);
        seen.push(`${call.command}:${JSON.stringify(result)}`);
        return result;
      },
    };
    cache.addHook(hook);
    for (const [, call] of EVERY_COMMAND) await call(cache, k);
    expect(seen.map((line) => line.split(':')[0])).toEqual(EVERY_COMMAND.map(([name]) => name));
    expect(seen.slice(0, 5)).toEqual(['getBits:[0,0]', 'incrBits:[3]', 'sliceIncr:1', 'setAdd:2', 'setRemove:1']);
    expect(seen.slice(5)).toEqual([
      'setPop:["b"]',
      expect.stringMatching(/^getKeysCount:\d+$/),
      'getSize:-1',
      'setRaw:true',
      'getRaw:"r"',
    ]);
  });

  it("a hook sees the caller's arguments and may change them", async () => {
    cache.addHook({
      name: 'doubleBy',
      handle: (call, next) =>
        call.command === 'incrBits'
          ? next({
              command: 'incrBits',
              args: [call.args[0], call.args[1], { ...call.args[2], by: 2 * (call.args[2].by ?? 1) }],
            })
          : next(call),
    });
    await expect(cache.incrBits(`${k}bits`, [0], { size: 8, by: 5 })).resolves.toEqual([10]);
  });

  it('switched off: reads answer what a missing key reads, writes and removals change nothing', async () => {
    await cache.incrBits(`${k}bits`, [1], { size: 4, by: 5 });
    await cache.setAdd(`${k}set`, ['a']);
    await cache.setRaw(`${k}raw`, 'stored');
    await cache.disabling(['get'], async () => {
      await expect(cache.getBits(`${k}bits`, [1, 2], { size: 4 })).resolves.toEqual([0, 0]);
      await expect(cache.getRaw(`${k}raw`)).resolves.toBeUndefined();
      await expect(cache.getSize(`${k}raw`)).resolves.toBe(-1);
      await expect(cache.getKeysCount()).resolves.toBe(0);
    });
    await cache.disabling(['set'], async () => {
      await expect(cache.incrBits(`${k}bits`, [1, 2], { size: 4, by: 20 })).resolves.toEqual([15, 15]);
      await expect(cache.sliceIncr(`${k}slice`, 0, 1, { max: 3 })).resolves.toBe(1);
      await expect(cache.setAdd(`${k}set`, ['b'])).resolves.toBe(0);
      await expect(cache.setRaw(`${k}raw`, 'dropped')).resolves.toBe(false);
    });
    await cache.disabling(['delete'], async () => {
      await expect(cache.setRemove(`${k}set`, ['a'])).resolves.toBe(0);
      await expect(cache.setPop(`${k}set`, 5)).resolves.toEqual([]);
    });
    await expect(cache.getBits(`${k}bits`, [1, 2], { size: 4 })).resolves.toEqual([5, 0]);
    await expect(cache.exists(`${k}slice`)).resolves.toBe(false);
    await expect(cache.setPop(`${k}set`, 5)).resolves.toEqual(['a']);
    await expect(cache.getRaw(`${k}raw`)).resolves.toBe('stored');
  });

  it('safe mode, failing backend: answers of a missing key, logged; counters throw CacheBackendError', async () => {
    const config = resolveCacheConfig(url());
    const failing = new CacheService(new ChaosBackend(backendOf(url()), { failureRate: 1 }), config);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      await expect(failing.getBits(`${k}b`, [1, 2])).resolves.toEqual([0, 0]);
      await expect(failing.setAdd(`${k}s`, ['a'])).resolves.toBe(0);
      await expect(failing.setRemove(`${k}s`, ['a'])).resolves.toBe(0);
      await expect(failing.setPop(`${k}s`, 3)).resolves.toEqual([]);
      await expect(failing.getKeysCount()).resolves.toBe(0);
      await expect(failing.getSize(`${k}s`)).resolves.toBe(-1);
      await expect(failing.getRaw(`${k}r`)).resolves.toBeUndefined();
      await expect(failing.setRaw(`${k}r`, 'x')).resolves.toBe(false);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/failed on getBits: .*safe mode: answered as a miss/));
      await expect(failing.incrBits(`${k}b`, [1])).rejects.toBeInstanceOf(CacheBackendError);
      await expect(failing.sliceIncr(`${k}c`, 0, 1, { max: 2 })).rejects.toThrow(/failed on sliceIncr/);
    } finally {
      await failing.close();
    }
  });

  it('without safe mode every backend failure throws CacheBackendError', async () => {
    const config = resolveCacheConfig(url(), { safe: false });
    const failing = new CacheService(new ChaosBackend(backendOf(url()), { failureRate: 1 }), config);
    try {
      for (const [name, call] of EVERY_COMMAND) {
        await expect(call(failing, k)).rejects.toThrow(new RegExp(`failed on ${name}`));
      }
    } finally {
      await failing.close();
    }
  });
});
