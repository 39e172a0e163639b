// A CommonJS NestJS 11 application loading the packed nestjs-cashews with plain require() (Node >= 20.19
// can require ES modules). Exits non-zero unless the decorator cached, the service answered and the app closed.
require('reflect-metadata');
const assert = require('node:assert/strict');
const { Injectable, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { Cache, CacheService, CashewsModule } = require('nestjs-cashews');

let runs = 0;
class Products {
  async find(id) {
    runs++;
    return { id, at: new Date(0) };
  }
}
// Plain JavaScript: apply the decorators as TypeScript would.
Cache({ ttl: '1m' })(Products.prototype, 'find', Object.getOwnPropertyDescriptor(Products.prototype, 'find'));
Injectable()(Products);
class AppModule {}
Module({ imports: [CashewsModule.forRoot('mem://')], providers: [Products] })(AppModule);

(async () => {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
  const products = app.get(Products);
  const first = await products.find(7);
  const second = await products.find(7);
  assert.equal(runs, 1, 'the second call must be served from cache');
  assert.ok(second.at instanceof Date, 'a Date must come back as a Date');
  assert.deepEqual(second, first);
  assert.equal(await app.get(CacheService).ping(), 'PONG');
  await app.close();
  console.log(`NestJS ${require('@nestjs/core/package.json').version} (CommonJS) loaded nestjs-cashews: ok`);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
