// A Redis read must settle around a test's fake timers: node:test's mock.timers replaces the global setImmediate and
// node:timers' export alike. argv[2] is "require" or "import" (the format the library is loaded through), argv[3]
// when the fakes were installed:
// - "after-load": a read while they are installed. A read batch that scheduled its flush through the export looked
//   up at call time waited for a fake clock nobody advanced (the CommonJS build of 0.1 did);
// - "before-load": installed while the library loaded, reset before the read. A batch that scheduled its flush only
//   through the setImmediate taken at load waited for the fake, which never runs once reset (the first fix did).
// Needs the Redis server CI starts on 6379.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mock } from 'node:test';

const [format, when] = process.argv.slice(2);
assert.ok(format === 'require' || format === 'import', 'usage: fake-timers.mjs require|import after-load|before-load');
assert.ok(
  when === 'after-load' || when === 'before-load',
  'usage: fake-timers.mjs require|import after-load|before-load',
);
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const APIS = ['setImmediate', 'setTimeout', 'setInterval'];

if (when === 'before-load') mock.timers.enable({ apis: APIS });
const lib = format === 'require' ? createRequire(import.meta.url)('nestjs-cashews') : await import('nestjs-cashews');
if (when === 'before-load') mock.timers.reset();

const cache = await lib.createCache(process.env.COMPAT_REDIS_URL ?? 'redis://127.0.0.1:6379/0');
const key = `compat:fake-timers:${process.pid}`;
try {
  await cache.set(key, { ok: true }, { ttl: '1m' });
  if (when === 'after-load') mock.timers.enable({ apis: APIS });
  let timer;
  const gaveUp = new Promise((resolve) => (timer = realSetTimeout(() => resolve('still waiting after 2 s'), 2000)));
  const read = await Promise.race([cache.get(key), gaveUp]);
  realClearTimeout(timer);
  assert.deepEqual(read, { ok: true }, `a Redis read around node:test's mock.timers (${format}, ${when})`);
} finally {
  mock.timers.reset();
  await cache.delete(key).catch(() => undefined);
  await cache.close();
}
console.log(
  when === 'after-load'
    ? `a Redis read settles under node:test's mock.timers, loaded through ${format}()`
    : `a Redis read settles after node:test's mock.timers, installed while loading through ${format}(), was reset`,
);
