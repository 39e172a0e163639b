// Loads the installed nestjs-cashews both ways in one process: require() must load the CommonJS build and
// import() the ES module build, and both must hand out the same objects (the CacheService DI token, MISS, the
// decorators, every export), whichever format is loaded first: argv[2] is "require-first" or "import-first".
// A provider decorated through one format then works in a module built through the other, and every
// metadata key the decorators set is a string or a Symbol.for() symbol.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const order = process.argv[2];
assert.ok(order === 'require-first' || order === 'import-first', 'usage: dual-identity.mjs require-first|import-first');

assert.match(
  require.resolve('nestjs-cashews'),
  /dist[\\/]cjs[\\/]/,
  "require('nestjs-cashews') must load the CommonJS build",
);
assert.match(import.meta.resolve('nestjs-cashews'), /dist\/esm\//, "import('nestjs-cashews') must load the ESM build");

let cjs;
let esm;
if (order === 'require-first') {
  cjs = require('nestjs-cashews');
  esm = await import('nestjs-cashews');
} else {
  esm = await import('nestjs-cashews');
  cjs = require('nestjs-cashews');
}

const names = Object.keys(esm).filter((name) => name !== 'default');
assert.deepEqual(Object.keys(cjs).sort(), names.sort(), 'both formats export the same names');
assert.ok(names.length > 20, `expected the whole API, got ${names.length} exports`);
for (const name of names) assert.equal(cjs[name], esm[name], `${name} differs between require() and import()`);
assert.equal(esm.default, cjs, 'the default export of the ESM entry is the CommonJS exports object');
assert.equal(cjs.getCacheToken(), esm.CacheService, 'the default cache token is the one CacheService class');

// Decorate with one format's Cache, build the module with the other's CashewsModule.
const { Injectable, Module } = await import('@nestjs/common');
const { NestFactory } = await import('@nestjs/core');
const [decorating, building] = order === 'require-first' ? [cjs, esm] : [esm, cjs];
class Products {
  runs = 0;
  async find(id) {
    this.runs++;
    return { id };
  }
}
decorating.Cache({ ttl: '1m' })(
  Products.prototype,
  'find',
  Object.getOwnPropertyDescriptor(Products.prototype, 'find'),
);
Injectable()(Products);
for (const key of Reflect.getOwnMetadataKeys(Products.prototype.find)) {
  const stable = typeof key === 'string' || (typeof key === 'symbol' && Symbol.keyFor(key) !== undefined);
  assert.ok(stable, `metadata key ${String(key)} is neither a string nor a Symbol.for() symbol`);
}
class AppModule {}
Module({ imports: [building.CashewsModule.forRoot('mem://')], providers: [Products] })(AppModule);

const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
const products = app.get(Products);
await products.find(1);
await products.find(1);
assert.equal(products.runs, 1, 'a method decorated through one format is cached by the module of the other');
assert.equal(app.get(cjs.CacheService), app.get(esm.CacheService));
await app.close();

// nestjs-cashews/testing: each format loads its build, and the helpers the main entry exports too are its objects.
assert.match(
  require.resolve('nestjs-cashews/testing'),
  /dist[\\/]cjs[\\/]/,
  'require of /testing loads the CommonJS build',
);
assert.match(import.meta.resolve('nestjs-cashews/testing'), /dist\/esm\//, 'import of /testing loads the ESM build');
const cjsTesting = require('nestjs-cashews/testing');
const esmTesting = await import('nestjs-cashews/testing');
for (const testing of [cjsTesting, esmTesting]) {
  assert.equal(
    typeof testing.runBackendConformance,
    'function',
    'nestjs-cashews/testing exports runBackendConformance',
  );
  assert.equal(testing.resetCaches, esm.resetCaches, 'resetCaches of /testing is the main entry one');
  assert.equal(testing.cacheInstances, esm.cacheInstances, 'cacheInstances of /testing is the main entry one');
}
console.log(`${order}: require() and import() of nestjs-cashews give the same ${names.length} exports`);
