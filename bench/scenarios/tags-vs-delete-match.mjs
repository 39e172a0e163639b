// Invalidation by tag vs by pattern: delete the 1,000 keys of one tag in a Redis database holding
// 1,000,000 keys, with `deleteTags` (per-tag index, no scan) and with `deleteMatch` (SCAN of the whole
// keyspace) on the same data. Runs on database 14 of REDIS_URL's server, which must be empty; it is
// flushed afterwards.
import { Redis } from 'ioredis';

export const name = 'tags-vs-delete-match';
export const description = 'deleteTags vs deleteMatch: 1,000 tagged keys among 1,000,000 (Redis db 14)';

const DB = 14;
const FILLER = 1_000_000;
const TAGGED = 1_000;
const ROUNDS = 5;
const TARGET_MS = 50;

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;

async function fill(raw, log) {
  const started = process.hrtime.bigint();
  const batch = 20_000;
  for (let from = 0; from < FILLER; from += batch) {
    const pipeline = raw.pipeline();
    // A TTL so a crashed run cannot leave the filler behind for long.
    for (let i = from; i < Math.min(FILLER, from + batch); i++) pipeline.set(`bench:fill:${i}`, 'x', 'EX', 900);
    await pipeline.exec();
  }
  log(`  loaded ${FILLER.toLocaleString('en')} filler keys in ${(ms(started) / 1000).toFixed(1)} s`);
}

async function tag(cache) {
  const writes = [];
  for (let i = 0; i < TAGGED; i++) writes.push(cache.set(`bench:tagged:${i}`, { i }, { ttl: '15m', tags: ['bench'] }));
  await Promise.all(writes);
}

export async function run(ctx) {
  const { createCache } = await ctx.lib('createCache');
  const base = new URL(ctx.redisUrl());
  base.pathname = `/${DB}`;
  const url = base.toString();
  const raw = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: () => null });
  try {
    await raw.ping();
  } catch (error) {
    raw.disconnect();
    throw ctx.skip(`Redis not reachable at ${base.host}: ${error.message}`);
  }
  const size = await raw.dbsize();
  if (size !== 0) {
    raw.disconnect();
    throw ctx.skip(`database ${DB} holds ${size} keys; the scenario needs it empty (it flushes it afterwards)`);
  }
  const cache = await createCache(url, { commandTimeout: '30s' });
  const byTag = [];
  const byMatch = [];
  try {
    await fill(raw, ctx.log);
    for (let round = 0; round < ROUNDS; round++) {
      await tag(cache);
      let started = process.hrtime.bigint();
      const removedByTag = await cache.deleteTags('bench');
      byTag.push(ms(started));
      if (removedByTag !== TAGGED) throw new Error(`deleteTags removed ${removedByTag} keys, expected ${TAGGED}`);

      await tag(cache);
      started = process.hrtime.bigint();
      const removedByMatch = await cache.deleteMatch('bench:tagged:*');
      byMatch.push(ms(started));
      if (removedByMatch !== TAGGED) throw new Error(`deleteMatch removed ${removedByMatch} keys, expected ${TAGGED}`);
      await cache.deleteTags('bench'); // drop the index entries deleteMatch left behind
    }
  } finally {
    await raw.flushdb();
    raw.disconnect();
    await cache.close();
  }
  const tagMs = median(byTag);
  const matchMs = median(byMatch);
  const fmt = (values) => `${Math.min(...values).toFixed(1)}..${Math.max(...values).toFixed(1)} ms`;
  return {
    checks: [
      {
        label: `deleteTags of ${TAGGED.toLocaleString('en')} keys among ${FILLER.toLocaleString('en')} under ${TARGET_MS} ms`,
        value: tagMs < TARGET_MS,
        expected: true,
        detail:
          `deleteTags median ${tagMs.toFixed(1)} ms (${fmt(byTag)}); deleteMatch median ${matchMs.toFixed(0)} ms ` +
          `(${fmt(byMatch)}); ${(matchMs / tagMs).toFixed(0)}x faster, ${ROUNDS} rounds`,
      },
    ],
  };
}
