// A cache hit through @Cache on a provider method with two arguments (mem://), against cache-manager 7
// `wrap` (anchor) and bentocache `getOrSet` hits on an in-memory store, in the same run.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { createCache as createCacheManager } from 'cache-manager';
import { Keyv } from 'keyv';
import { LRUCache } from 'lru-cache';

export const name = 'decorator-cache-hit';
export const description = '@Cache hit on a provider method with two arguments, mem://';

const IDS = 1024;
const MASK = IDS - 1;
const load = (id, color) => ({ id, color, price: 10 });

function check(sum, n, who) {
  if (sum !== n) throw new Error(`${who}: ${n - sum} of ${n} calls did not answer the expected value`);
}

export async function run(ctx) {
  const { CashewsModule, Cache } = await ctx.lib('CashewsModule', 'Cache');

  // Plain JavaScript: apply the decorators by hand, as TypeScript would.
  class Products {
    async find(id, color) {
      return load(id, color);
    }
  }
  Cache({ ttl: '10m' })(Products.prototype, 'find', Object.getOwnPropertyDescriptor(Products.prototype, 'find'));
  Injectable()(Products);
  class BenchModule {}
  Module({ imports: [CashewsModule.forRoot('mem://?size=10000')], providers: [Products] })(BenchModule);

  const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
  const products = app.get(Products);
  const manager = createCacheManager({ stores: [new Keyv()] });
  // The hand-written floor of issue #15: an async function that builds the key and reads lru-cache, awaited.
  const lru = new LRUCache({ max: 10_000, ttl: 600_000, ttlResolution: 0 });
  const handWritten = async (id, color) => {
    const key = `products:${id}:${color}`;
    let value = lru.get(key);
    if (value === undefined) lru.set(key, (value = load(id, color)));
    return value;
  };
  const bento = new BentoCache({
    default: 'memory',
    stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000 })) },
  });
  try {
    for (let id = 0; id < IDS; id++) {
      await products.find(id, 'red');
      await handWritten(id, 'red');
      await manager.wrap(`products:${id}:red`, async () => load(id, 'red'), 600_000);
      await bento.getOrSet({ key: `products:${id}:red`, factory: async () => load(id, 'red'), ttl: '10m' });
    }
    return await ctx.compare({
      anchor: 'cache-manager wrap',
      contenders: [
        {
          name: 'cache-manager wrap',
          note: "cache-manager 7 wrap(key, fn, ttl) on Keyv's in-memory store; key built inline",
          async batch(n) {
            let sum = 0;
            for (let i = 0; i < n; i++) {
              const id = i & MASK;
              sum += (await manager.wrap(`products:${id}:red`, async () => load(id, 'red'), 600_000)).price === 10;
            }
            check(sum, n, 'cache-manager wrap');
          },
        },
        {
          name: 'nestjs-cashews @Cache',
          note: 'await products.find(id, "red"): key built from the arguments by the compiled default key',
          async batch(n) {
            let sum = 0;
            for (let i = 0; i < n; i++) sum += (await products.find(i & MASK, 'red')).price === 10;
            check(sum, n, 'nestjs-cashews @Cache');
          },
        },
        {
          name: 'hand-written floor',
          note: 'await of an async function that builds the key and reads lru-cache (TTL entries, exact clock)',
          async batch(n) {
            let sum = 0;
            for (let i = 0; i < n; i++) sum += (await handWritten(i & MASK, 'red')).price === 10;
            check(sum, n, 'hand-written floor');
          },
        },
        {
          name: 'bentocache getOrSet',
          note: 'bentocache 1.6 getOrSet on a memory L1 store; key built inline',
          async batch(n) {
            let sum = 0;
            for (let i = 0; i < n; i++) {
              const id = i & MASK;
              const value = await bento.getOrSet({
                key: `products:${id}:red`,
                factory: async () => load(id, 'red'),
                ttl: '10m',
              });
              sum += value.price === 10;
            }
            check(sum, n, 'bentocache getOrSet');
          },
        },
      ],
      // Issue #15's targets: 8x cache-manager's wrap, and at least half the hand-written floor.
      targets: [
        { contender: 'nestjs-cashews @Cache', min: 8, label: '>= 8x cache-manager wrap' },
        { contender: 'nestjs-cashews @Cache', against: 'hand-written floor', min: 0.5, label: '>= 0.5x the floor' },
      ],
      pairs: [['nestjs-cashews @Cache', 'bentocache getOrSet']],
    });
  } finally {
    await app.close();
    await bento.disconnectAll?.();
    await manager.disconnect?.();
  }
}
