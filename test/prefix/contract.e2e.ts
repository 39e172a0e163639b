/**
 * The backend contract through prefix routing (`prefixes` option), with memory and Redis mixed under one instance:
 * once with the contract's keys on a routed memory backend and the rest on Redis, once the other way round with a
 * client-side Redis. Redis db 13 (flushed after the file).
 */
import { createCache } from '../../lib/index.js';
import { backendContract } from '../support/backend-contract.js';
import { describeRedis, flushRedisDb, redisUrl, withQuery } from '../support/redis.js';

const DB = 13;

function redis(): string {
  const base = redisUrl(DB);
  if (!base) throw new Error('Redis URL missing although the suite is not skipped');
  return base;
}

describe('prefix routing, memory only', () => {
  backendContract('mem:// routing contract: to mem://?size=50000', () =>
    createCache('mem://', { prefixes: { 'contract:': 'mem://?size=50000' } }),
  );
});

describeRedis('prefix routing, memory and Redis', () => {
  afterAll(async () => {
    await flushRedisDb(DB);
  });

  backendContract(`redis db ${DB} routing contract: to mem://`, () =>
    createCache(redis(), { prefixes: { 'contract:': 'mem://', 'unused:': 'mem://?size=10' } }),
  );
  backendContract(`mem:// routing contract: to redis db ${DB}?client_side=1`, () =>
    createCache('mem://', { prefixes: { 'contract:': withQuery(redis(), { client_side: '1' }) } }),
  );
});
