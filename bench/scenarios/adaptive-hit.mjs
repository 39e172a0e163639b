// The cost of an @Adaptive hit once it decided to cache (issue #14's review: a hit cost ~4.7x a @Cache hit), against
// a @Cache hit of the same method on mem://, in the same run. @Adaptive decides from windows of calls: a warm-up drives
// it through a dozen one-second windows in moments by moving Date.now() forward (the tuner reads time through it).
// Date.now() is then the real one again: the tuner, a dozen windows ahead, closes no window until the real time
// catches up, and the decision holds while measuring.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

export const name = 'adaptive-hit';
export const description = '@Adaptive hit (decided: cache) vs @Cache hit on a provider method, mem://';

const IDS = 1024;
const MASK = IDS - 1;
const load = (id, color) => ({ id, color, price: 10 });

function check(sum, n, who) {
  if (sum !== n) throw new Error(`${who}: ${n - sum} of ${n} calls did not answer the expected value`);
}

export async function run(ctx) {
  const { CashewsModule, Cache, Adaptive, CacheService } = await ctx.lib(
    'CashewsModule',
    'Cache',
    'Adaptive',
    'CacheService',
  );
  let adaptiveRuns = 0;
  class Cached {
    async find(id, color) {
      return load(id, color);
    }
  }
  class Adapted {
    async find(id, color) {
      adaptiveRuns++;
      return load(id, color);
    }
  }
  const decorate = (decorator, target) =>
    decorator(target.prototype, 'find', Object.getOwnPropertyDescriptor(target.prototype, 'find'));
  decorate(Cache({ ttl: '10m' }), Cached);
  decorate(Adaptive({ maxTtl: '10m', window: '1s', fleet: false }), Adapted);
  Injectable()(Cached);
  Injectable()(Adapted);
  class BenchModule {}
  Module({ imports: [CashewsModule.forRoot('mem://?size=10000')], providers: [Cached, Adapted] })(BenchModule);

  const realNow = Date.now;
  let offset = 0;
  Date.now = () => realNow() + offset;
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
  try {
    const cached = app.get(Cached);
    const adapted = app.get(Adapted);
    for (let id = 0; id < IDS; id++) await cached.find(id, 'red');
    // Twelve windows of every key called twice: repeated arguments, results that never change.
    for (let window = 0; window < 12; window++) {
      offset += 1000;
      for (let i = 0; i < 2 * IDS; i++) await adapted.find(i & MASK, 'red');
    }
    Date.now = realNow;
    // Entries stored during the warm-up got the short TTLs of the first decisions, and the backend counts them in
    // real time: they are dropped and stored again under the decision now in force.
    await app.get(CacheService).deleteMatch('Adapted:*');
    for (let id = 0; id < IDS; id++) await adapted.find(id, 'red');
    const decided = app
      .get(CacheService)
      .stats()
      .methods.find((m) => m.method === 'Adapted.find')?.adaptive;
    if (decided?.store !== 'cache') throw new Error(`@Adaptive did not decide to cache: ${JSON.stringify(decided)}`);
    ctx.log(`  @Adaptive decided: ${decided.strategy}, ttl ${decided.ttlMs} ms (${decided.reason})`);
    const runsBefore = adaptiveRuns;
    const result = await ctx.compare({
      anchor: '@Cache hit',
      contenders: [
        {
          name: '@Cache hit',
          note: 'await cached.find(id, "red"), @Cache({ ttl: "10m" })',
          async batch(n) {
            let sum = 0;
            for (let i = 0; i < n; i++) sum += (await cached.find(i & MASK, 'red')).price === 10;
            check(sum, n, '@Cache hit');
          },
        },
        {
          name: '@Adaptive hit',
          note: 'await adapted.find(id, "red"), @Adaptive({ maxTtl: "10m" }) after it decided to cache',
          async batch(n) {
            let sum = 0;
            for (let i = 0; i < n; i++) sum += (await adapted.find(i & MASK, 'red')).price === 10;
            check(sum, n, '@Adaptive hit');
          },
        },
      ],
      // The review's target: an @Adaptive hit within 1.5x the cost of a @Cache hit.
      targets: [{ contender: '@Adaptive hit', min: 1 / 1.5, label: '>= 1/1.5 of @Cache hit (cost within 1.5x)' }],
    });
    ctx.log(`  @Adaptive runs while measuring (misses): ${adaptiveRuns - runsBefore}`);
    return result;
  } finally {
    Date.now = realNow;
    await app.close();
  }
}
