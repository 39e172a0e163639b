import type { Clock } from '../clock.js';
import { registerCacheableClass, unregisterCacheableClass } from '../codec/class-registry.js';
import { fnv1a, resultDigest } from './digest.js';
import { LastGood } from './last-good.js';
import { AdaptiveTuner } from './tuner.js';
import type { AdaptiveBounds } from './types.js';

const bounds: AdaptiveBounds = { maxTtl: 60_000, maxStaleness: 30_000, minTtl: 1000, slowRun: 100, window: 10_000 };

class ManualClock implements Clock {
  constructor(public time = 1_000_000) {}
  now(): number {
    return this.time;
  }
}

/** Two keys with the same 32-bit FNV-1a hash (the sampler tracks keys by this hash). */
const COLLIDING = ['costarring', 'liquid'] as const;

describe('LastGood', () => {
  it('keeps a copy: a caller changing its result afterwards does not change what a failure falls back on', () => {
    const kept = new LastGood(10, 10_000);
    const result = { id: 1, tags: ['a'] };
    kept.keep('k', resultDigest(result), 0);
    result.tags.push('changed');
    expect(kept.find('k', 100, 1000)).toEqual({ value: { id: 1, tags: ['a'] }, age: 100 });
  });

  it('answers every find with a copy of its own: a caller changing what it was served does not change the next answer', () => {
    const kept = new LastGood(10, 10_000);
    kept.keep('k', resultDigest({ id: 1, tags: ['a'] }), 0);
    const first = kept.find('k', 1, 1000)?.value as { tags: string[] };
    first.tags.push('changed by the first caller');
    const second = kept.find('k', 2, 1000)?.value;
    expect(second).toEqual({ id: 1, tags: ['a'] });
    expect(second).not.toBe(first);
  });

  it('answers nothing for a value holding an instance of a class redefined since, and forgets it', () => {
    class LgMoney {
      constructor(readonly amount: number) {}
    }
    registerCacheableClass(LgMoney, 'LgMoney');
    const kept = new LastGood(10, 10_000);
    kept.keep('k', resultDigest({ price: new LgMoney(5) }), 0);
    expect(kept.find('k', 1, 1000)?.value).toEqual({ price: new LgMoney(5) });
    // A deploy or a hot reload registers another definition under the name: the kept instance is outdated, a miss.
    class LgMoney2 {
      constructor(
        readonly amount: number,
        readonly currency = 'EUR',
      ) {}
    }
    registerCacheableClass(LgMoney2, 'LgMoney');
    try {
      expect(kept.find('k', 2, 1000)).toBeUndefined();
      expect(kept.size).toBe(0);
      expect(kept.usedBytes).toBe(0);
    } finally {
      unregisterCacheableClass(LgMoney2);
    }
  });

  it('answers nothing older than maxAge, and forgets it', () => {
    const kept = new LastGood(10, 10_000);
    kept.keep('k', resultDigest('v'), 0);
    expect(kept.find('k', 1001, 1000)).toBeUndefined();
    expect(kept.size).toBe(0);
  });

  it('holds at most maxEntries keys and about maxBytes, the least recently kept leaving first', () => {
    const byCount = new LastGood(3, 1000);
    for (const key of ['a', 'b', 'c']) byCount.keep(key, resultDigest(key), 0);
    byCount.keep('a', resultDigest('a again'), 0); // a is now the most recently kept
    byCount.keep('d', resultDigest('d'), 0);
    expect(['a', 'b', 'c', 'd'].map((key) => byCount.find(key, 0, 1000)?.value)).toEqual([
      'a again',
      undefined,
      'c',
      'd',
    ]);
    const byBytes = new LastGood(100, 100);
    // 12 bytes each: the key (2) and the JSON text of the value (10).
    for (let i = 0; i < 9; i++) byBytes.keep(`k${i}`, resultDigest(`value ${i}!`), 0);
    expect(byBytes.usedBytes).toBe(96);
    expect(byBytes.find('k0', 0, 1000)).toBeUndefined();
    byBytes.keep('big', resultDigest('x'.repeat(13)), 0); // more than an eighth of maxBytes: not kept
    expect(byBytes.find('big', 0, 1000)).toBeUndefined();
    byBytes.keep(
      'k1',
      resultDigest(() => 1),
      0,
    ); // cannot be copied: not kept, and the older value is gone too
    expect(byBytes.find('k1', 0, 1000)).toBeUndefined();
  });
});

describe('AdaptiveTuner.lastGoodOf', () => {
  it("keeps every tracked key's last success, by its full key: a hash collision never answers another key", () => {
    const clock = new ManualClock();
    const tuner = new AdaptiveTuner({ bounds, clock });
    const [a, b] = COLLIDING;
    expect(fnv1a(a)).toBe(fnv1a(b));
    tuner.onCall(a);
    tuner.onSuccess(a, { key: a }, 5);
    tuner.onCall(b); // tracked too, apart from a
    expect(tuner.lastGoodOf(a)?.value).toEqual({ key: a });
    expect(tuner.lastGoodOf(b)).toBeUndefined();
    clock.time += bounds.maxStaleness + 1;
    expect(tuner.lastGoodOf(a)).toBeUndefined(); // older than maxStaleness
  });

  it('counts a result by its stored form: a Map is as large as its entries, and a big one is not kept', () => {
    const tuner = new AdaptiveTuner({ bounds, clock: new ManualClock() });
    /** A Map of `entries` strings of 100 characters: about 100 bytes an entry once stored, 2 as JSON text ("{}"). */
    const map = (entries: number) => new Map(Array.from({ length: entries }, (_, i) => [i, 'x'.repeat(100)]));
    tuner.onCall('huge');
    tuner.onSuccess('huge', map(100_000), 5); // about 10 MB: over an eighth of the 1 MiB kept per method
    expect(tuner.lastGoodOf('huge')).toBeUndefined();
    // 30 Maps of about 50 KB: 1.5 MB in all, over the 1 MiB bound, so the first kept leave.
    for (let i = 0; i < 30; i++) {
      tuner.onCall(`m${i}`);
      tuner.onSuccess(`m${i}`, map(500), 5);
    }
    expect(tuner.lastGoodOf('m0')).toBeUndefined();
    expect((tuner.lastGoodOf('m29')?.value as Map<number, string>).size).toBe(500);
  });

  it("counts the key's length too: a value kept under a huge key is bounded like a huge value", () => {
    const tuner = new AdaptiveTuner({ bounds, clock: new ManualClock() });
    const key = `k:${'x'.repeat(200_000)}`;
    tuner.onCall(key);
    tuner.onSuccess(key, 1, 5);
    expect(tuner.lastGoodOf(key)).toBeUndefined();
  });
});
