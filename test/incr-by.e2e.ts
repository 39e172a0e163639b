/**
 * `incr(key, by)` with a `by` that is not a safe integer is a usage error (`CacheValueError`, like a stored value
 * that is not an integer), not a backend failure: it is thrown in safe mode too, names `by` and the accepted form,
 * and nothing reaches the backend. Runs on mem:// and Redis.
 */
import { CacheBackendError, CacheService, CacheValueError, createCache } from '../lib/index.js';
import { redisUrl } from './support/redis.js';

describe.each([
  ['mem://', () => 'mem://'],
  ['redis', () => redisUrl()!],
])('incr with a non-integer by (%s)', (_name, url) => {
  let cache: CacheService;
  const key = `incr-by:${process.pid}:${Math.random().toString(36).slice(2)}`;

  beforeEach(async () => {
    cache = await createCache(url()); // safe mode: backend failures would be answered, usage errors are not
  });
  afterEach(async () => {
    await cache.delete(key);
    await cache.close();
  });

  it.each([1.5, Number.NaN, Infinity, 2 ** 60])(
    'by = %p throws CacheValueError and leaves the counter alone',
    async (by) => {
      await cache.incr(key, 2);
      const before = cache.stats().backends[0];
      const error: unknown = await cache.incr(key, by).then(
        () => new Error('incr resolved'),
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(CacheValueError);
      expect(error).not.toBeInstanceOf(CacheBackendError);
      expect(error).toMatchObject({ code: 'CASHEWS_VALUE' });
      expect((error as Error).message).toMatch(/"by" must be a safe integer such as 1 or -1/);
      // Nothing was sent: no command, no failure counted.
      expect(cache.stats().backends[0]).toMatchObject({ commands: before.commands, errors: 0 });
      await expect(cache.get(key)).resolves.toBe(2);
    },
  );
});
