/**
 * The options object of every CacheService command that takes one: a TTL passed where the options go (cache-manager's
 * `set(key, value, ttl)` habit) or a misspelt option name used to be ignored, storing an entry without its TTL. Both
 * are refused at the call, before the backend, naming the command and the accepted names; valid options still work.
 * Runs on mem:// and Redis (db 0 of the worker's Redis, keys under a random prefix, deleted after each test).
 */
import { CacheService, CashewsConfigError, createCache } from '../../lib/index.js';
import { redisUrl } from '../support/redis.js';

type Call = (cache: CacheService, key: string) => Promise<unknown>;

/** [label, call, what the message must say]: each refused before anything reaches the backend. */
const REFUSED: ReadonlyArray<[string, Call, RegExp]> = [
  ['set with a TTL in milliseconds for options', (c, k) => c.set(k, 1, 60_000 as never), /set\(\).*\{ ttl: 60000 \}/],
  [
    'set with a TTL string for options',
    (c, k) => c.set(k, 1, '1m' as never),
    /A TTL goes in the options: \{ ttl: "1m" \}/,
  ],
  [
    'set with a misspelt ttl',
    (c, k) => c.set(k, 1, { tll: '1m' } as never),
    /set\(\): unknown option "tll"\. Accepted: ttl, exist, tags/,
  ],
  ['set with null options', (c, k) => c.set(k, 1, null as never), /set\(\): the options must be an object.*got null/],
  [
    'getOrSet with a TTL for options',
    (c, k) => c.getOrSet(k, () => 1, 5_000 as never),
    /getOrSet\(\).*\{ ttl: 5000 \}/,
  ],
  [
    'setMany with tags',
    (c, k) => c.setMany({ [k]: 1 }, { tags: ['t'] } as never),
    /setMany\(\): unknown option "tags"\. Accepted: ttl/,
  ],
  ['incr with a TTL for options', (c, k) => c.incr(k, 1, '1m' as never), /incr\(\).*\{ ttl: "1m" \}/],
  [
    'setAdd with an expire option',
    (c, k) => c.setAdd(k, ['a'], { expire: '1m' } as never),
    /setAdd\(\): unknown option "expire"/,
  ],
  ['setRaw with a TTL for options', (c, k) => c.setRaw(k, 'r', 1_000 as never), /setRaw\(\).*\{ ttl: 1000 \}/],
  [
    'incrBits with a misspelt size',
    (c, k) => c.incrBits(k, [1], { sise: 4 } as never),
    /incrBits\(\): unknown option "sise"\. Accepted: size, by, ttl/,
  ],
  ['getBits with an array for options', (c, k) => c.getBits(k, [1], [4] as never), /getBits\(\).*got an array/],
  [
    'sliceIncr with a limit option',
    (c, k) => c.sliceIncr(k, 0, 1, { max: 2, limit: 1 } as never),
    /sliceIncr\(\): unknown option "limit"/,
  ],
  [
    'isLocked with a timeout option',
    (c, k) => c.isLocked(k, { timeout: '1s' } as never),
    /isLocked\(\): unknown option "timeout"\. Accepted: wait, step/,
  ],
  [
    'lock with a retry option',
    (c, k) => c.lock(k, '1s', () => 1, { retry: true } as never),
    /lock\(\): unknown option "retry"/,
  ],
  [
    'transaction with a misspelt mode',
    (c) => c.transaction(() => 1, { mod: 'fast' } as never),
    /transaction\(\): unknown option "mod"\. Accepted: mode, timeout, lockTtl/,
  ],
];

describe.each([
  ['mem://', () => 'mem://'],
  ['redis', () => redisUrl()!],
])('command options are checked (%s)', (_name, url) => {
  let cache: CacheService;
  let k: string;

  beforeEach(async () => {
    cache = await createCache(url());
    k = `opts:${process.pid}:${Math.random().toString(36).slice(2)}:`;
  });
  afterEach(async () => {
    await cache.deleteMatch(`${k}*`);
    await cache.close();
  });

  it.each(REFUSED)('%s is refused before the backend, naming the command', async (_label, call, message) => {
    const before = cache.stats().backends[0];
    const error: unknown = await call(cache, `${k}bad`).then(
      () => new Error('the call resolved'),
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(CashewsConfigError);
    expect((error as Error).message).toMatch(message);
    expect(cache.stats().backends[0]).toMatchObject({ commands: before.commands, errors: 0 });
    await expect(cache.exists(`${k}bad`)).resolves.toBe(false);
  });

  it('a factory given with bad options never runs', async () => {
    let runs = 0;
    await expect(cache.getOrSet(`${k}f`, () => ++runs, '1m' as never)).rejects.toThrow(CashewsConfigError);
    expect(runs).toBe(0);
  });

  it('valid options, an empty object and no options at all still work', async () => {
    await expect(cache.set(`${k}a`, 1, { ttl: '1m', exist: false, tags: [] })).resolves.toBe(true);
    await expect(cache.set(`${k}b`, 2, {})).resolves.toBe(true);
    await expect(cache.set(`${k}c`, 3)).resolves.toBe(true);
    await expect(cache.set(`${k}d`, 4, { ttl: undefined })).resolves.toBe(true);
    const left = await cache.getExpire(`${k}a`);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(60_000);
    await expect(cache.getOrSet(`${k}e`, () => 5, { ttl: '1m' })).resolves.toBe(5);
    await expect(cache.incr(`${k}n`, 2, { ttl: '1m' })).resolves.toBe(2);
    await expect(cache.transaction(() => cache.set(`${k}t`, 6), { mode: 'fast' })).resolves.toBe(true);
    await expect(cache.getMany([`${k}a`, `${k}b`, `${k}c`, `${k}d`, `${k}t`])).resolves.toEqual([1, 2, 3, 4, 6]);
  });
});
