import { KeySampler } from './key-sampler.js';

describe('KeySampler', () => {
  it('answers the gap since the previous call of a key, -1 for a new one', () => {
    const sampler = new KeySampler(8);
    expect(sampler.touch('a', 100)).toBe(-1);
    expect(sampler.touch('a', 350)).toBe(250);
  });

  it('compares successive results of a key', () => {
    const sampler = new KeySampler(8);
    const key = 'a';
    sampler.touch(key, 0);
    expect(sampler.result(key, 1, 0)).toBeUndefined();
    expect(sampler.result(key, 1, 1000)).toEqual({ spanMs: 1000, changed: false });
    expect(sampler.result(key, 2, 1500)).toEqual({ spanMs: 500, changed: true });
  });

  it('never holds more than its capacity: the sampling rate halves instead', () => {
    const sampler = new KeySampler(64);
    let sampled = 0;
    for (let i = 0; i < 10_000; i++) if (sampler.touch(`key-${i}`, i) !== undefined) sampled++;
    expect(sampler.size).toBeLessThanOrEqual(64);
    expect(sampler.rate).toBeLessThan(1 / 32);
    expect(sampled).toBeLessThan(2000);
    // Idle keys are forgotten, and every key is sampled again after a window of few sampled calls.
    sampler.endWindow(10_000 + 60_000, 30_000, 3);
    expect(sampler.size).toBe(0);
    expect(sampler.rate).toBe(1);
  });

  it('lets a new key take the place of one idle for idleAfter rather than sample less', () => {
    const sampler = new KeySampler(4, 1000);
    for (let i = 0; i < 4; i++) sampler.touch(`old-${i}`, 0);
    expect(sampler.touch('new', 5000)).toBe(-1);
    expect(sampler.rate).toBe(1);
    expect(sampler.size).toBe(4);
  });

  it('the place goes to the least recently called key, however the keys were called before', () => {
    const sampler = new KeySampler(3, 1000);
    sampler.touch('a', 0);
    sampler.touch('b', 100);
    sampler.touch('c', 200);
    sampler.touch('a', 300); // b is now the least recently called
    expect(sampler.touch('d', 1200)).toBe(-1);
    expect(['a', 'b', 'c', 'd'].map((key) => sampler.tracks(key))).toEqual([true, false, true, true]);
    // At the end of a window, keys idle for longer than the horizon leave, the recently called stay.
    sampler.touch('c', 1500);
    sampler.endWindow(2000, 900, 100);
    expect(['a', 'c', 'd'].map((key) => sampler.tracks(key))).toEqual([false, true, true]);
  });

  it("keeps its memory bounded whatever the keys' length: a long key is held by a hash of it", () => {
    const sampler = new KeySampler(8);
    const long = (i: number) => `${i}:${'x'.repeat(100_000)}`;
    for (let i = 0; i < 8; i++) expect(sampler.touch(long(i), i)).toBe(-1);
    expect(sampler.heldKeyChars).toBeLessThanOrEqual(8 * 74);
    // Each long key is still told apart from the others, by its hash.
    expect(sampler.touch(long(3), 100)).toBe(97);
    expect(sampler.tracks(long(3))).toBe(true);
    expect(sampler.tracks(long(9))).toBe(false);
    sampler.result(long(3), 1, 100);
    expect(sampler.result(long(3), 2, 200)).toEqual({ spanMs: 100, changed: true });
  });

  it('holds a call key of up to 64 characters with its :%adaptive suffix as it is, a longer one by its hash', () => {
    const sampler = new KeySampler(8);
    const asHanded = (length: number) => `${'k'.repeat(length)}:%adaptive`;
    sampler.touch(asHanded(64), 0);
    expect(sampler.heldKeyChars).toBe(74);
    sampler.touch(asHanded(65), 0);
    expect(sampler.heldKeyChars).toBeLessThan(74 + 30);
    expect(sampler.tracks(asHanded(65))).toBe(true);
  });

  it('gives the place to the least recently called key even when the front key was called again', () => {
    const sampler = new KeySampler(2, 1000);
    sampler.touch('a', 0);
    sampler.touch('a', 50);
    sampler.touch('b', 600);
    // a was last called at 50, 1050 ms ago: idle, so c takes its place and every key is still sampled.
    expect(sampler.touch('c', 1100)).toBe(-1);
    expect(sampler.rate).toBe(1);
    expect(['a', 'b', 'c'].map((key) => sampler.tracks(key))).toEqual([false, true, true]);
    // At the end of a window, keys idle for longer than the horizon leave, however they were called before.
    const ended = new KeySampler(4, 1000);
    ended.touch('a', 0);
    ended.touch('a', 50);
    ended.touch('b', 100);
    ended.touch('b', 5000);
    ended.endWindow(5000, 1000, 100);
    expect(['a', 'b'].map((key) => ended.tracks(key))).toEqual([false, true]);
  });
});
