/**
 * The arguments of CacheService commands, beyond the option names (command-options.e2e.ts): what JavaScript callers,
 * or TypeScript behind an `any`, can pass that the types refuse. Each used to be taken silently or to fail with an
 * error about the library's own code:
 * - tags given as one string (`{ tags: 'user:42' }`) were read as its characters, so the entry was stored under the
 *   tags `u`, `s`, `e`, … and `deleteTags('user:42')` left it in place;
 * - a key list given as one string (`deleteMany('user:42')`) deleted the keys `u`, `s`, `e`, …; `getMany('abc')`
 *   failed inside the backend and was logged and counted as a backend failure;
 * - a key that is not a string failed with `TypeError: key.charCodeAt is not a function`, or, for a lock, was
 *   turned into a string (`lock(5)` and `lock('5')` shared one lock);
 * - `setMany` entries given as one string, or a string for a pair, stored one-character keys;
 * - `exist: 'yes'` was taken as `true`;
 * - `lock`, `transaction`, `detect` and `invalidateFurther` without a function failed with `fn is not a function`
 *   (`lock` after taking the lock), and `resetProtection(5)` was taken as the pattern '5';
 * - a `getOrSet` TTL that is not a duration passed as long as the key was stored: only a miss checked it.
 * Each is now refused at the call, before the backend, with an error naming the command and the accepted form.
 * Runs on mem:// and Redis (db 0 of the worker's Redis, keys under a random prefix, deleted after each test).
 */
import { CacheKeyError, CacheService, CacheValueError, CashewsConfigError, createCache } from '../../lib/index.js';
import { redisUrl } from '../support/redis.js';

type Call = (cache: CacheService, key: string) => Promise<unknown>;
type ErrorClass = new (...args: never[]) => Error;

/** [label, call, the error's class, what its message must say]: each refused before anything reaches the backend. */
const REFUSED: ReadonlyArray<[string, Call, ErrorClass, RegExp]> = [
  [
    'set with tags given as one string',
    (c, k) => c.set(k, 1, { tags: `${k}tag` as never }),
    CacheValueError,
    /set\(".*"\): tags must be an array of non-empty strings, such as \['user:42'\] \(got the string ".*tag"\)/,
  ],
  [
    'deleteMany with one string',
    (c, k) => c.deleteMany(k as never),
    CacheKeyError,
    /deleteMany\(\): keys must be an array of strings, such as \['a', 'b'\] \(got the string ".*"\)/,
  ],
  ['getMany with one string', (c, k) => c.getMany(k as never), CacheKeyError, /getMany\(\): keys must be an array/],
  [
    'get with a number key',
    (c) => c.get(5 as never),
    CacheKeyError,
    /get\(\): the key must be a string \(got the number 5\)/,
  ],
  [
    'get with no key',
    (c) => c.get(undefined as never),
    CacheKeyError,
    /get\(\): the key must be a string \(got undefined\)/,
  ],
  ['set with a number key', (c) => c.set(5 as never, 1), CacheKeyError, /set\(\): the key must be a string/],
  ['delete with a number key', (c) => c.delete(5 as never), CacheKeyError, /delete\(\): the key must be a string/],
  [
    'exists with a null key',
    (c) => c.exists(null as never),
    CacheKeyError,
    /exists\(\): the key must be a string \(got null\)/,
  ],
  [
    'getOrSet with a number key',
    (c) => c.getOrSet(5 as never, () => 1),
    CacheKeyError,
    /getOrSet\(\): the key must be a string/,
  ],
  [
    'deleteMatch with a number pattern',
    (c) => c.deleteMatch(5 as never),
    CacheKeyError,
    /deleteMatch\(\): the key must be a string/,
  ],
  [
    'setMany with a number key',
    (c) => c.setMany([[5 as never, 1]]),
    CacheKeyError,
    /setMany\(\): the key must be a string/,
  ],
  [
    'setLock with a number key',
    (c) => c.setLock(5 as never, 't', '1s'),
    CacheKeyError,
    /setLock\(\): the key must be a string/,
  ],
  ['unlock with a number key', (c) => c.unlock(5 as never, 't'), CacheKeyError, /unlock\(\): the key must be a string/],
  [
    'isLocked with a number key',
    (c) => c.isLocked(5 as never),
    CacheKeyError,
    /isLocked\(\): the key must be a string/,
  ],
  [
    'lock with a number key',
    (c) => c.lock(5 as never, '1s', () => 1),
    CacheKeyError,
    /lock\(\): the key must be a string \(got the number 5\)/,
  ],
  [
    'setMany with one string',
    (c, k) => c.setMany(k as never),
    CacheValueError,
    /setMany\(\): entries must be an array of \[key, value\] pairs, a Map, or an object of keys and values \(got the string/,
  ],
  [
    'setMany with a string for a pair',
    (c, k) => c.setMany([`${k}ab`] as never),
    CacheValueError,
    /setMany\(\): each entry must be a \[key, value\] pair \(got the string ".*ab"\)/,
  ],
  [
    'lock with a value where the function goes',
    (c, k) => c.lock(`${k}l`, '1s', 5 as never),
    CashewsConfigError,
    /^lock\(\): expected a function to run, such as \(\) => this\.work\(\); got the number 5\.$/,
  ],
  [
    'transaction without a function',
    (c) => c.transaction(null as never),
    CashewsConfigError,
    /^transaction\(\): expected a function/,
  ],
  ['detect without a function', (c) => c.detect('x' as never), CashewsConfigError, /^detect\(\): expected a function/],
  [
    'invalidateFurther without a function',
    (c) => c.invalidateFurther({} as never),
    CashewsConfigError,
    /^invalidateFurther\(\): expected a function.*got an object/,
  ],
  [
    'resetProtection with a number pattern',
    (c) => c.resetProtection(5 as never),
    CacheKeyError,
    /resetProtection\(\): the key must be a string/,
  ],
  [
    'set with exist given as a string',
    (c, k) => c.set(k, 1, { exist: 'yes' as never }),
    CashewsConfigError,
    /set\(\): "exist" must be true \(only replace a stored key\) or false \(only store a new key\); got the string "yes"/,
  ],
];

describe.each([
  ['mem://', () => 'mem://'],
  ['redis', () => redisUrl()!],
])('command arguments are checked (%s)', (_name, url) => {
  let cache: CacheService;
  let k: string;

  beforeEach(async () => {
    cache = await createCache(url());
    k = `args:${process.pid}:${Math.random().toString(36).slice(2)}:`;
  });
  afterEach(async () => {
    await cache.deleteMatch(`${k}*`);
    await cache.close();
  });

  it.each(REFUSED)('%s is refused before the backend, naming the command', async (_label, call, type, message) => {
    const before = cache.stats().backends[0];
    const error: unknown = await call(cache, k).then(
      () => new Error('the call resolved'),
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(message);
    expect(cache.stats().backends[0]).toMatchObject({ commands: before.commands, errors: 0 });
  });

  it('one-character keys are not deleted by a key list given as one string', async () => {
    await cache.set(`${k}a`, 1);
    await expect(cache.deleteMany(`${k}a` as never)).rejects.toThrow(CacheKeyError);
    await expect(cache.get(`${k}a`)).resolves.toBe(1);
  });

  it('a getOrSet TTL that is not a duration is refused on a hit too, and the stored value stays', async () => {
    await cache.set(`${k}g`, 1);
    await expect(cache.getOrSet(`${k}g`, () => 2, { ttl: 'soon' })).rejects.toThrow(
      /Invalid duration for "ttl": "soon"/,
    );
    await expect(cache.getOrSet(`${k}g`, () => 2, { ttl: -1 })).rejects.toThrow(CashewsConfigError);
    // A valid TTL after a refused one is still checked and served (the check remembers only what passed).
    await expect(cache.getOrSet(`${k}g`, () => 2, { ttl: '1m' })).resolves.toBe(1);
    await expect(cache.getOrSet(`${k}g`, () => 2, { ttl: 'soon' })).rejects.toThrow(CashewsConfigError);
  });

  it('valid arguments still work: tag arrays, key arrays, boolean exist, lock names', async () => {
    await expect(cache.set(`${k}t`, 1, { tags: [`${k}tag`], exist: false })).resolves.toBe(true);
    await expect(cache.set(`${k}t`, 2, { exist: true })).resolves.toBe(true);
    await expect(cache.getMany([`${k}t`, `${k}none`])).resolves.toEqual([2, undefined]);
    await expect(cache.deleteTags(`${k}tag`)).resolves.toBe(1);
    await expect(cache.get(`${k}t`)).resolves.toBeUndefined();
    await cache.set(`${k}x`, 1);
    await expect(cache.deleteMany([`${k}x`])).resolves.toBe(1);
    await expect(cache.lock(`${k}l`, '1s', () => 'locked')).resolves.toBe('locked');
    await expect(cache.isLocked(`${k}l`)).resolves.toBe(false);
  });
});
