// An allowed call through @RateLimit on a provider method (redis://), against rate-limiter-flexible
// RateLimiterRedis `consume` (anchor) on the same Redis with its own ioredis client, in the same run.
// Both count atomically with one Lua script per call; 100 concurrent callers each make sequential calls.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RateLimiterRedis } from 'rate-limiter-flexible';

export const name = 'rate-limit-redis';
export const description = 'allowed call through @RateLimit, redis://, 100 concurrent callers';

const CONCURRENCY = 100;
const LIMIT = 1_000_000_000; // never reached: every measured call is an allowed one

async function concurrently(n, call, who) {
  const perCaller = Math.max(1, Math.round(n / CONCURRENCY));
  let wrong = 0;
  const caller = async () => {
    for (let j = 0; j < perCaller; j++) if (!(await call())) wrong++;
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, caller));
  if (wrong) throw new Error(`${who}: ${wrong} of ${perCaller * CONCURRENCY} calls were not allowed`);
}

export async function run(ctx) {
  const url = ctx.redisUrl();
  const { CashewsModule, RateLimit } = await ctx.lib('CashewsModule', 'RateLimit');

  const raw = await ctx.rawRedis();

  const prefix = `bench:nestjs-cashews:${process.pid}:${Date.now()}`;
  const oursKey = `${prefix}:ours`;
  const flexPrefix = `${prefix}:flex`;

  // Plain JavaScript: apply the decorators by hand, as TypeScript would.
  class Api {
    async search() {
      return true;
    }
  }
  RateLimit({ limit: LIMIT, period: '1h', key: oursKey })(
    Api.prototype,
    'search',
    Object.getOwnPropertyDescriptor(Api.prototype, 'search'),
  );
  Injectable()(Api);
  class BenchModule {}
  Module({ imports: [CashewsModule.forRoot(url)], providers: [Api] })(BenchModule);

  const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
  const api = app.get(Api);
  const limiter = new RateLimiterRedis({ storeClient: raw, keyPrefix: flexPrefix, points: LIMIT, duration: 3600 });
  try {
    if ((await api.search()) !== true) throw new Error('@RateLimit did not allow the first call');
    if ((await limiter.consume('client')).remainingPoints !== LIMIT - 1) throw new Error('consume miscounted');
    return await ctx.compare({
      anchor: 'rate-limiter-flexible',
      contenders: [
        {
          name: 'rate-limiter-flexible',
          note: 'RateLimiterRedis.consume(key) on an ioredis client (Lua script per call)',
          quantum: CONCURRENCY,
          batch: (n) =>
            concurrently(n, () => limiter.consume('client').then((res) => res.remainingPoints >= 0), 'flexible'),
        },
        {
          name: 'nestjs-cashews @RateLimit',
          note: 'await api.search(): provider method decorated with @RateLimit (executor + Lua script per call)',
          quantum: CONCURRENCY,
          batch: (n) => concurrently(n, () => api.search(), '@RateLimit'),
        },
      ],
      targets: [{ contender: 'nestjs-cashews @RateLimit', min: 1.2, label: '>= 1.2x rate-limiter-flexible' }],
    });
  } finally {
    // The decorator's window lives under the library's protection namespace (cashews:protect:).
    await raw.del(`cashews:protect:${oursKey}:rate`, `${flexPrefix}:client`).catch(() => undefined);
    await app.close();
    await raw.quit().catch(() => raw.disconnect());
  }
}
