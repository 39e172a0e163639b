// The package must load and serve on a global object that takes no new property (hardened environments seal or
// freeze it before anything loads). The entry files keep the exports of the first format loaded in a registry on
// globalThis; defining it threw on such a global, so neither require() nor import() of the package could load.
// argv[2] is "require" or "import": the format the library is loaded through.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const format = process.argv[2];
assert.ok(format === 'require' || format === 'import', 'usage: sealed-global.mjs require|import');
// Node's own undici (behind Headers, Request, Response, FormData) defines a global property when it first loads, and
// some of Nest's dependencies load it: an environment that seals the global object has loaded it first, or nothing
// Nest-based runs there.
void globalThis.Headers;
Object.preventExtensions(globalThis);
const lib = format === 'require' ? createRequire(import.meta.url)('nestjs-cashews') : await import('nestjs-cashews');
const cache = await lib.createCache('mem://');
try {
  await cache.set('sealed', { ok: true });
  assert.deepEqual(await cache.get('sealed'), { ok: true }, `a mem:// read on a non-extensible global (${format})`);
} finally {
  await cache.close();
}
console.log(`loads and serves on a non-extensible global object, through ${format}()`);
