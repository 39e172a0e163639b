// A Redis read must settle while a test's fake timers are installed: node:test's mock.timers replaces the global
// setImmediate and node:timers' export alike, and a read batch that scheduled its flush through either at call time
// waited for a fake clock nobody advanced (the CommonJS build did: it looked the export up at each call). argv[2] is
// "require" or "import": the format the library is loaded through. Needs the Redis server CI starts on 6379.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mock } from 'node:test';

const format = process.argv[2];
assert.ok(format === 'require' || format === 'import', 'usage: fake-timers.mjs require|import');
const lib = format === 'require' ? createRequire(import.meta.url)('nestjs-cashews') : await import('nestjs-cashews');

const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const cache = await lib.createCache(process.env.COMPAT_REDIS_URL ?? 'redis://127.0.0.1:6379/0');
const key = `compat:fake-timers:${process.pid}`;
try {
  await cache.set(key, { ok: true }, { ttl: '1m' });
  mock.timers.enable({ apis: ['setImmediate', 'setTimeout', 'setInterval'] });
  let timer;
  const gaveUp = new Promise((resolve) => (timer = realSetTimeout(() => resolve('still waiting after 2 s'), 2000)));
  const read = await Promise.race([cache.get(key), gaveUp]);
  realClearTimeout(timer);
  assert.deepEqual(read, { ok: true }, `a Redis read under node:test's mock.timers (${format})`);
  mock.timers.reset();
  await cache.delete(key);
} finally {
  mock.timers.reset();
  await cache.close();
}
console.log(`a Redis read settles under node:test's mock.timers, loaded through ${format}()`);
