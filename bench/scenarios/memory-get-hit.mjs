// `get` hit on mem:// through CacheService vs raw lru-cache (anchor) vs cache-manager 7 (in-memory Keyv).
import { createCache as createCacheManager } from 'cache-manager';
import { Keyv } from 'keyv';
import { LRUCache } from 'lru-cache';

export const name = 'memory-get-hit';
export const description = 'get hit, mem://, small object, 1024 hot keys';

const KEYS = Array.from({ length: 1024 }, (_, i) => `user:${i}`);
const MASK = KEYS.length - 1;
const VALUE = { id: 1, name: 'x', tags: ['a', 'b'] };

/** Every contender checks every result, so a miss (or a wrong value) can never look fast. */
function check(sum, n, who) {
  if (sum !== n) throw new Error(`${who}: ${n - sum} of ${n} gets were not hits with the expected value`);
}

export async function run(ctx) {
  const { createCache } = await ctx.lib('createCache');

  const ours = await createCache('mem://');
  const lru = new LRUCache({ max: 10_000 });
  const manager = createCacheManager({ stores: [new Keyv()] });
  try {
    for (const key of KEYS) {
      await ours.set(key, VALUE);
      lru.set(key, VALUE);
      await manager.set(key, VALUE);
    }
    // Sanity: every contender answers the value (ours and cache-manager may answer a copy).
    for (const [who, got] of [
      ['nestjs-cashews', await ours.get(KEYS[7])],
      ['lru-cache', lru.get(KEYS[7])],
      ['cache-manager', await manager.get(KEYS[7])],
    ]) {
      if (JSON.stringify(got) !== JSON.stringify(VALUE)) throw new Error(`${who} answered ${JSON.stringify(got)}`);
    }

    return await ctx.compare({
      anchor: 'lru-cache',
      contenders: [
        {
          name: 'lru-cache',
          note: 'raw synchronous lru.get(key), no promise',
          batch(n) {
            let sum = 0;
            for (let i = 0; i < n; i++) sum += lru.get(KEYS[i & MASK]).id;
            check(sum, n, 'lru-cache');
          },
        },
        {
          name: 'nestjs-cashews',
          note: 'await cache.get(key) on createCache("mem://")',
          async batch(n) {
            let sum = 0;
            for (let i = 0; i < n; i++) sum += (await ours.get(KEYS[i & MASK]))?.id ?? 0;
            check(sum, n, 'nestjs-cashews');
          },
        },
        {
          name: 'lru-cache+await',
          note: 'await lru.get(key): the floor for any promise-returning get (informational)',
          async batch(n) {
            let sum = 0;
            for (let i = 0; i < n; i++) sum += (await lru.get(KEYS[i & MASK])).id;
            check(sum, n, 'lru-cache+await');
          },
        },
        {
          name: 'cache-manager',
          note: 'cache-manager 7, createCache({ stores: [new Keyv()] }): Keyv default Map store, JSON-serialized',
          async batch(n) {
            let sum = 0;
            for (let i = 0; i < n; i++) sum += (await manager.get(KEYS[i & MASK]))?.id ?? 0;
            check(sum, n, 'cache-manager');
          },
        },
      ],
      // Issue #15: a promise-returning get is judged against the promise-returning floor.
      targets: [
        { contender: 'nestjs-cashews', against: 'lru-cache+await', min: 0.95, label: '>= 0.95x await lru.get()' },
      ],
      pairs: [['nestjs-cashews', 'cache-manager']],
    });
  } finally {
    await ours.close();
    await manager.disconnect?.();
  }
}
