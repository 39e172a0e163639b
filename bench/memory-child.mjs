// One contender of the memory-per-entry scenario, in a fresh process (node --expose-gc): fills N entries of a
// ~200-byte object and prints the retained heap per entry as JSON. Separate processes: a heap that held another
// contender's entries before would skew the figure.
import { LRUCache } from 'lru-cache';
import { createCache as createCacheManager } from 'cache-manager';
import { Keyv } from 'keyv';

const [kind, count, libUrl] = process.argv.slice(2);
const n = Number(count);
// Loaded before the first heap reading: the library's own code is not memory per entry.
const { createCache } = kind === 'nestjs-cashews' ? await import(libUrl) : {};

function value(i) {
  // About 200 bytes as JSON.
  return {
    id: i,
    name: `user-${i}`,
    email: `user-${i}@example.com`,
    tags: ['alpha', 'beta', 'gamma'],
    score: i * 1.5,
    active: i % 2 === 0,
    address: { street: `${i} Main Street`, city: 'Springfield', zip: String(10000 + (i % 90000)) },
  };
}

async function fill() {
  switch (kind) {
    case 'lru-cache': {
      const lru = new LRUCache({ max: n, ttl: 600_000 });
      for (let i = 0; i < n; i++) lru.set(`user:${i}`, value(i));
      return lru;
    }
    case 'nestjs-cashews': {
      const cache = await createCache(`mem://?size=${n}`);
      for (let i = 0; i < n; i++) await cache.set(`user:${i}`, value(i), { ttl: '10m' });
      if ((await cache.get(`user:${n - 1}`))?.id !== n - 1) throw new Error('nestjs-cashews lost an entry');
      return cache;
    }
    case 'cache-manager': {
      const manager = createCacheManager({ stores: [new Keyv()] });
      for (let i = 0; i < n; i++) await manager.set(`user:${i}`, value(i), 600_000);
      return manager;
    }
    default:
      throw new Error(`unknown contender ${kind}`);
  }
}

globalThis.gc();
globalThis.gc();
const before = process.memoryUsage().heapUsed;
const held = await fill();
globalThis.gc();
globalThis.gc();
const after = process.memoryUsage().heapUsed;
process.stdout.write(JSON.stringify({ kind, perEntry: (after - before) / n, held: held !== undefined }) + '\n');
process.exit(0);
