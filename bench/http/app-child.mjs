// One NestJS HTTP app of the HTTP scenarios (bench/scenarios/http-*.mjs), run in its own process so the load
// generator (autocannon, in the bench process) does not share its event loop:
//   node bench/http/app-child.mjs <variant> <cache url> <library entry>
// Variants:
//   plain          no CashewsModule at all
//   cashews        CashewsModule.forRoot(url), no HTTP features
//   cashews-headers  the same with detectHeaders (the X-From-Cache headers)
//   cashews-interceptor  CashewsModule.forRoot(url, { directRoutes: false }): decorated handlers on the interceptor
//   cache-manager  @nestjs/cache-manager's CacheModule (memory) and its CacheInterceptor on /cached and /slow
//   cache-manager-redis  the same on Keyv + @keyv/redis at <cache url> (keys under $BENCH_KEYV_NAMESPACE)
// Routes: GET /bare (no decorator), /const (no decorator, constant), /cached (cached, 1 min), /slow (cached, a
// 100 ms "upstream"), /runs (how many times /slow's handler ran). Prints `listening <port>` once ready.
import 'reflect-metadata';
import { Controller, Get, Inject, Injectable, Module, UseInterceptors } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { pathToFileURL } from 'node:url';

const [variant, url, entry] = process.argv.slice(2);
const lib = await import(pathToFileURL(entry).href);
const PRODUCT = Object.freeze({
  id: 42,
  name: 'Espresso machine',
  price: 349.9,
  tags: ['kitchen', 'coffee', 'appliance'],
  stock: { warehouse: 12, shops: 3 },
});
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const decorate = (decorators, proto, name) => {
  let descriptor = Object.getOwnPropertyDescriptor(proto, name);
  for (const decorator of [...decorators].reverse()) descriptor = decorator(proto, name, descriptor) ?? descriptor;
  Object.defineProperty(proto, name, descriptor);
};

let runs = 0;
class ProductsController {
  bare() {
    return { ...PRODUCT };
  }
  const() {
    return PRODUCT;
  }
  cached() {
    return { ...PRODUCT };
  }
  async slow() {
    runs++;
    await sleep(100);
    return { ...PRODUCT };
  }
  runs() {
    return { runs };
  }
}
const proto = ProductsController.prototype;
decorate([Get('bare')], proto, 'bare');
decorate([Get('const')], proto, 'const');
decorate([Get('runs')], proto, 'runs');
const imports = [];
if (variant === 'cache-manager' || variant === 'cache-manager-redis') {
  const { CacheModule, CacheInterceptor } = await import('@nestjs/cache-manager');
  decorate([Get('cached'), UseInterceptors(CacheInterceptor)], proto, 'cached');
  decorate([Get('slow'), UseInterceptors(CacheInterceptor)], proto, 'slow');
  if (variant === 'cache-manager') {
    imports.push(CacheModule.register({ ttl: 60_000 }));
  } else {
    // On Redis: Keyv + @keyv/redis (node-redis), keys under the namespace the scenario passes (it deletes them).
    const { Keyv } = await import('keyv');
    const { default: KeyvRedis } = await import('@keyv/redis');
    const namespace = process.env.BENCH_KEYV_NAMESPACE ?? 'nestjs-cashews-bench-http';
    imports.push(CacheModule.register({ ttl: 60_000, stores: [new Keyv({ store: new KeyvRedis(url), namespace })] }));
  }
} else {
  if (variant !== 'plain') {
    // BENCH_KEY_PREFIX: a scenario's own key prefix, so that it deletes exactly its entries afterwards.
    const keys = process.env.BENCH_KEY_PREFIX ? { prefix: process.env.BENCH_KEY_PREFIX } : {};
    decorate([Get('cached'), lib.Cache({ ttl: '1m', ...keys })], proto, 'cached');
    decorate([Get('slow'), lib.Cache({ ttl: '1m', ...keys })], proto, 'slow');
    const http =
      variant === 'cashews-headers'
        ? { detectHeaders: true }
        : variant === 'cashews-interceptor'
          ? { directRoutes: false }
          : {};
    imports.push(lib.CashewsModule.forRoot(url, http));
  } else {
    decorate([Get('cached')], proto, 'cached');
    decorate([Get('slow')], proto, 'slow');
  }
}
Controller('p')(ProductsController);
class AppModule {}
Module({ imports, controllers: [ProductsController] })(AppModule);

const app = await NestFactory.create(AppModule, { logger: false });
await app.listen(0, '127.0.0.1');
process.stdout.write(`listening ${app.getHttpServer().address().port}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
// Unused imports kept out of the way of linters.
void Inject;
void Injectable;
