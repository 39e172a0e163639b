/** The backend contract on `redis://...?client_side=1` (db 13, flushed after the file), plain and signed. */
import { createCache } from '../../lib/index.js';
import { backendContract, type CacheFactoryOptions } from '../support/backend-contract.js';
import { describeRedis, flushRedisDb, redisUrl, withQuery } from '../support/redis.js';

const DB = 13;
const SECRET = 'client-side-secret';

function url(): string {
  const base = redisUrl(DB);
  if (!base) throw new Error('Redis URL missing although the suite is not skipped');
  return withQuery(base, { client_side: '1' });
}

describeRedis('client-side cache backend', () => {
  afterAll(async () => {
    await flushRedisDb(DB);
  });

  backendContract(`redis db ${DB}?client_side=1`, () => createCache(url()));
  backendContract(`redis db ${DB}?client_side=1 with secret`, () => createCache(url(), { secret: SECRET }), {
    secret: SECRET,
    makeWith: (options: CacheFactoryOptions) => createCache(url(), { secret: SECRET, ...options }),
  });
});
