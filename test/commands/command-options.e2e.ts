/**
 * The options object of every CacheService command that takes one: a TTL passed where the options go (cache-manager's
 * `set(key, value, ttl)` habit) or a misspelt option name used to be ignored, storing an entry without its TTL. Both
 * are refused at the call, before the backend, naming the command and the accepted names; valid options still work.
 * Runs on mem:// and Redis (db 0 of the worker's Redis, keys under a random prefix, deleted after each test).
 */
import { CacheService, CashewsConfigError, createCache } from '../../lib/index.js';
import { COMMAND_OPTIONS } from '../../lib/config/command-options.js';
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
    'lock with a step longer than a timer waits (Node would fire it after 1 ms)',
    (c, k) => c.lock(k, '1s', () => 1, { step: '30d' }),
    /"step": 2592000000 ms is longer than a timer can wait\. Accepted: at most 2147483647 ms/,
  ],
  [
    'isLocked with a step longer than a timer waits',
    (c, k) => c.isLocked(k, { wait: '1s', step: '30d' }),
    /"step": 2592000000 ms .* at most 2147483647 ms/,
  ],
  [
    'lock with a retry option',
    (c, k) => c.lock(k, '1s', () => 1, { retry: true } as never),
    /lock\(\): unknown option "retry"/,
  ],
  ['set with a Map for options', (c, k) => c.set(k, 1, new Map([['ttl', 1000]]) as never), /set\(\).*got a Map/],
  ['set with a Date for options', (c, k) => c.set(k, 1, new Date() as never), /set\(\).*got a Date/],
  ['set with a boxed number for options', (c, k) => c.set(k, 1, new Number(60_000) as never), /set\(\).*got a Number/],
  [
    'sliceIncr with max where the options go: no TTL hint',
    (c, k) => c.sliceIncr(k, 0, 1, 100 as never),
    /^sliceIncr\(\): the options must be an object with any of max, ttl; got the number 100\.$/,
  ],
  [
    'incrBits with a size where the options go: no TTL hint',
    (c, k) => c.incrBits(k, [1], 4 as never),
    /^incrBits\(\): the options must be an object with any of size, by, ttl; got the number 4\.$/,
  ],
  [
    'incr with a TTL where the options go: the hint, without cache-manager',
    (c, k) => c.incr(k, 1, 60_000 as never),
    /^incr\(\): .* A TTL goes in the options: \{ ttl: 60000 \}\.$/,
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

  it("a name added to Object.prototype is nobody's option: commands without options still work", async () => {
    const proto = Object.prototype as unknown as Record<string, unknown>;
    proto.polyfilled = () => undefined;
    try {
      await expect(cache.set(`${k}p`, 1)).resolves.toBe(true);
      await expect(cache.set(`${k}p`, 2, { ttl: '1m' })).resolves.toBe(true);
      await expect(cache.getOrSet(`${k}p`, () => 3)).resolves.toBe(2);
      await expect(cache.incr(`${k}pn`)).resolves.toBe(1);
      // An own name is still checked.
      await expect(cache.set(`${k}p`, 1, { tll: '1m' } as never)).rejects.toThrow(/unknown option "tll"/);
    } finally {
      delete proto.polyfilled;
    }
  });

  it('every accepted option name of every command is taken', async () => {
    // Each command with all of its accepted names at once: a list that refused a name a command reads would fail here.
    await expect(cache.set(`${k}a1`, 1, { ttl: '1m', exist: false, tags: [`${k}t`] })).resolves.toBe(true);
    await expect(cache.setMany({ [`${k}a2`]: 1 }, { ttl: '1m' })).resolves.toBeUndefined();
    await expect(cache.getOrSet(`${k}a3`, () => 1, { ttl: '1m' })).resolves.toBe(1);
    await expect(cache.incr(`${k}a4`, 1, { ttl: '1m' })).resolves.toBe(1);
    await expect(cache.isLocked(`${k}a5`, { wait: 10, step: 5 })).resolves.toBe(false);
    await expect(cache.lock(`${k}a6`, '1s', () => 'ran', { wait: false, step: 5 })).resolves.toBe('ran');
    await expect(cache.getBits(`${k}a7`, [1], { size: 4 })).resolves.toEqual([0]);
    await expect(cache.incrBits(`${k}a8`, [1], { size: 4, by: 2, ttl: '1m' })).resolves.toEqual([2]);
    await expect(cache.sliceIncr(`${k}a9`, 0, 1, { max: 5, ttl: '1m' })).resolves.toBe(1);
    await expect(cache.setAdd(`${k}a10`, ['m'], { ttl: '1m' })).resolves.toBe(1);
    await expect(cache.setRaw(`${k}a11`, 'raw', { ttl: '1m' })).resolves.toBe(true);
    await expect(
      cache.transaction(() => cache.set(`${k}a12`, 1), { mode: 'locked', timeout: '5s', lockTtl: '5s' }),
    ).resolves.toBe(true);
    const listed = Object.keys(COMMAND_OPTIONS).sort();
    expect(listed).toEqual(
      [
        'getBits',
        'getOrSet',
        'incr',
        'incrBits',
        'isLocked',
        'lock',
        'set',
        'setAdd',
        'setMany',
        'setRaw',
        'sliceIncr',
        'transaction',
      ].sort(),
    );
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
