// Redis `get` hits under 100 concurrent callers: CacheService (redis://) vs raw ioredis GET (anchor), and vs ioredis
// with auto-pipelining (issue #15: >= 1.3x the first, >= 1.0x the second).
import { Redis } from 'ioredis';

export const name = 'redis-get-concurrent';
export const description = 'get hit, redis://, 100 concurrent callers each doing sequential gets';

const CONCURRENCY = 100;
const VALUE = { id: 1, name: 'x', tags: ['a', 'b'] };
const RAW_VALUE = JSON.stringify(VALUE);

/** Runs `n` gets as CONCURRENCY async loops of n / CONCURRENCY sequential gets; counts the misses. */
async function concurrently(n, keys, get, who) {
  const perCaller = Math.max(1, Math.round(n / CONCURRENCY));
  let misses = 0;
  const caller = async (w) => {
    for (let j = 0; j < perCaller; j++) {
      const value = await get(keys[(w + j) % keys.length]);
      if (value === undefined || value === null) misses++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => caller(w)));
  if (misses) throw new Error(`${who}: ${misses} of ${perCaller * CONCURRENCY} gets missed`);
}

async function connectRaw(url, options = {}) {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 1, ...options });
  let lastError;
  client.on('error', (error) => (lastError = error)); // failures surface on the commands
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    return { error: lastError ?? error };
  }
  return { client };
}

export async function run(ctx) {
  const url = ctx.redisUrl();
  const { createCache } = await ctx.lib('createCache');

  const { client: raw, error } = await connectRaw(url);
  if (!raw)
    throw ctx.skip(`Redis not reachable at ${url.replace(/\/\/[^@/]*@/, '//***@')}: ${error?.message ?? error}`);

  // Unique per run; these exact keys (and nothing else) are deleted at the end.
  const prefix = `bench:nestjs-cashews:${process.pid}:${Date.now()}:`;
  const oursKeys = Array.from({ length: CONCURRENCY }, (_, i) => `${prefix}ours:${i}`);
  const rawKeys = Array.from({ length: CONCURRENCY }, (_, i) => `${prefix}raw:${i}`);
  let ours;
  let pipelined;
  try {
    ({ client: pipelined } = await connectRaw(url, { enableAutoPipelining: true }));
    if (!pipelined) throw new Error('the auto-pipelining ioredis client could not connect');
    ours = await createCache(url);
    for (let i = 0; i < CONCURRENCY; i++) {
      if ((await ours.set(oursKeys[i], VALUE, { ttl: '10m' })) === false) throw new Error('CacheService.set failed');
      await raw.set(rawKeys[i], RAW_VALUE, 'PX', 600_000);
    }
    const check = await ours.get(oursKeys[3]);
    if (JSON.stringify(check) !== RAW_VALUE) throw new Error(`CacheService answered ${JSON.stringify(check)}`);
    if ((await raw.get(rawKeys[3])) !== RAW_VALUE) throw new Error('raw ioredis GET answered a different value');

    return await ctx.compare({
      anchor: 'ioredis',
      contenders: [
        {
          name: 'ioredis',
          note: 'raw client.get(key) on the pre-serialized JSON string (no parse), ioredis defaults',
          quantum: CONCURRENCY,
          batch: (n) => concurrently(n, rawKeys, (key) => raw.get(key), 'ioredis'),
        },
        {
          name: 'ioredis auto-pipelining',
          note: 'raw client.get(key) as above, on a client with enableAutoPipelining: true',
          quantum: CONCURRENCY,
          batch: (n) => concurrently(n, rawKeys, (key) => pipelined.get(key), 'ioredis auto-pipelining'),
        },
        {
          name: 'nestjs-cashews',
          note: 'await cache.get(key) on createCache(REDIS_URL), decodes to the object',
          quantum: CONCURRENCY,
          batch: (n) => concurrently(n, oursKeys, (key) => ours.get(key), 'nestjs-cashews'),
        },
      ],
      targets: [
        { contender: 'nestjs-cashews', min: 1.3, label: '>= 1.3x ioredis' },
        {
          contender: 'nestjs-cashews',
          against: 'ioredis auto-pipelining',
          min: 1.0,
          label: '>= 1.0x ioredis with auto-pipelining',
        },
      ],
    });
  } finally {
    // Every key also carries a 10 minute TTL, so a failed cleanup cannot leave them behind for good.
    await raw.del(...oursKeys, ...rawKeys).catch(() => undefined);
    await ours?.close();
    await pipelined?.quit().catch(() => pipelined.disconnect());
    await raw.quit().catch(() => raw.disconnect());
  }
}
