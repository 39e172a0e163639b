// A cache hit through @Cache on a provider method with two arguments on redis://, against cache-manager 7 `wrap`
// on Keyv with @keyv/redis (anchor) and bentocache `getOrSet` on a Redis-only (L2) store, in the same run, on the
// same server: every hit of every contender is a Redis read and a decode (no in-process layer). 100 concurrent
// callers each make sequential calls (one caller would measure the round trip, the same for all).
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import KeyvRedis from '@keyv/redis';
import { BentoCache, bentostore } from 'bentocache';
import { redisDriver } from 'bentocache/drivers/redis';
import { createCache as createCacheManager } from 'cache-manager';
import { Keyv } from 'keyv';
import { deleteRedisKeysMatching } from '../harness.mjs';

export const name = 'redis-decorated-hit';
export const description = '@Cache hit on a provider method with two arguments, redis://, 100 concurrent callers';

const CONCURRENCY = 100;
const IDS = 1024;
const MASK = IDS - 1;
let loads = 0;
const load = (id, color) => {
  loads++;
  return { id, color, price: 10 };
};

/**
 * `n` calls as CONCURRENCY async loops of sequential calls over the ids; throws on a wrong answer. At each step the
 * callers ask CONCURRENCY different ids, whatever `n`: with `w * perCaller + j` they asked the same ids whenever the
 * calibrated `perCaller` had a large power of two as a factor (128: 8 distinct ids for 100 callers), and cache-manager,
 * which shares one read among concurrent `wrap`s of a key, then made one Redis read for a dozen calls (534k ops/s at
 * 128 per caller against 154k at 125, one run here): the ratio depended on the calibration.
 */
async function concurrently(n, call, who) {
  const perCaller = Math.max(1, Math.round(n / CONCURRENCY));
  let wrong = 0;
  const caller = async (w) => {
    for (let j = 0; j < perCaller; j++) {
      const id = (w + j * CONCURRENCY) & MASK;
      const value = await call(id);
      if (value?.price !== 10 || value.id !== id) wrong++;
    }
  };
  const before = loads;
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => caller(w)));
  if (loads !== before) throw new Error(`${who}: ${loads - before} calls ran the loader (a miss, not a hit)`);
  if (wrong) throw new Error(`${who}: ${wrong} of ${perCaller * CONCURRENCY} calls did not answer the expected value`);
}

export async function run(ctx) {
  const url = ctx.redisUrl();
  const { CashewsModule, Cache } = await ctx.lib('CashewsModule', 'Cache');

  const raw = await ctx.rawRedis();

  // Unique per run: every key any contender writes contains it, and exactly those keys are deleted at the end.
  const prefix = `bench:nestjs-cashews:${process.pid}:${Date.now()}:`;
  const { hostname, port, pathname } = new URL(url);
  const db = Number(pathname.slice(1) || 0);

  // Plain JavaScript: apply the decorators by hand, as TypeScript would.
  class Products {
    async find(id, color) {
      return load(id, color);
    }
  }
  Cache({ ttl: '10m', key: `${prefix}ours:{id}:{color}` })(
    Products.prototype,
    'find',
    Object.getOwnPropertyDescriptor(Products.prototype, 'find'),
  );
  Injectable()(Products);
  class BenchModule {}
  Module({ imports: [CashewsModule.forRoot(url)], providers: [Products] })(BenchModule);

  let app;
  let manager;
  let bento;
  try {
    app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
    const products = app.get(Products);
    manager = createCacheManager({ stores: [new Keyv({ store: new KeyvRedis(url), namespace: `${prefix}keyv` })] });
    bento = new BentoCache({
      default: 'redis',
      prefix: `${prefix}bento`,
      stores: {
        redis: bentostore().useL2Layer(
          redisDriver({ connection: { host: hostname, port: Number(port || 6379), db, lazyConnect: false } }),
        ),
      },
    });
    const wrap = (id) => manager.wrap(`products:${id}:red`, async () => load(id, 'red'), 600_000);
    const getOrSet = (id) =>
      bento.getOrSet({ key: `products:${id}:red`, factory: async () => load(id, 'red'), ttl: '10m' });
    for (let id = 0; id < IDS; id++) {
      await products.find(id, 'red');
      await wrap(id);
      await getOrSet(id);
    }
    return await ctx.compare({
      anchor: 'cache-manager wrap',
      contenders: [
        {
          name: 'cache-manager wrap',
          note: 'cache-manager 7 wrap(key, fn, ttl) on Keyv + @keyv/redis (node-redis); key built inline',
          quantum: CONCURRENCY,
          batch: (n) => concurrently(n, wrap, 'cache-manager wrap'),
        },
        {
          name: 'nestjs-cashews @Cache',
          note: 'await products.find(id, "red"): key template rendered from the arguments, redis:// instance',
          quantum: CONCURRENCY,
          batch: (n) => concurrently(n, (id) => products.find(id, 'red'), 'nestjs-cashews @Cache'),
        },
        {
          name: 'bentocache getOrSet',
          note: 'bentocache 1.6 getOrSet on a Redis-only (L2) store (ioredis, defaults); key built inline',
          quantum: CONCURRENCY,
          batch: (n) => concurrently(n, getOrSet, 'bentocache getOrSet'),
        },
      ],
      targets: [
        { contender: 'nestjs-cashews @Cache', min: 3, label: '>= 3x cache-manager wrap' },
        {
          contender: 'nestjs-cashews @Cache',
          against: 'bentocache getOrSet',
          min: 3,
          label: '>= 3x bentocache getOrSet',
        },
      ],
      pairs: [['nestjs-cashews @Cache', 'bentocache getOrSet']],
    });
  } finally {
    await app?.close();
    await bento?.disconnectAll?.();
    await manager?.disconnect?.();
    // Every key carries a 10 minute TTL too, so a failed cleanup cannot leave them behind for good.
    await deleteRedisKeysMatching(raw, `*${prefix}*`);
    await raw.quit().catch(() => raw.disconnect());
  }
}
