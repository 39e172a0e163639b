import { createCache } from '../create-cache.js';
import type { CacheService } from '../cache.service.js';
import { engineOf } from '../engine/engine-of.js';
import { MISS } from '../miss.js';
import { agedCache, freshEntry } from './aged-cache.js';
import type { ReadExpiry } from './strategy.js';

describe('agedCache (mem://)', () => {
  let cache: CacheService;
  beforeEach(async () => {
    cache = await createCache('mem://');
  });
  afterEach(() => cache.close());

  it('reads an entry under the TTL it is given now, not the one it was written with, and tells what is left', async () => {
    const written = Date.now() - 5000;
    await cache.set('k', { v: 'value', at: written + 60_000, w: written }, { ttl: 60_000 });
    const noted: number[] = [];
    const expiry: ReadExpiry = { noteExpire: (_key, ttl) => noted.push(ttl) };
    expect(await agedCache(engineOf(cache), { ttl: 8000 }).read('k', expiry)).toBe('value');
    expect(noted[0]).toBeGreaterThan(2900);
    expect(noted[0]).toBeLessThanOrEqual(3000);
    expect(await agedCache(engineOf(cache), { ttl: 4000 }).read('k', expiry)).toBe(MISS);
  });

  it('stores values with their write time; a value stored without one is a miss', async () => {
    const aged = agedCache(engineOf(cache), { ttl: 60_000 });
    await aged.set('k', { id: 1 }, { ttl: 60_000 });
    expect(await aged.read('k')).toEqual({ id: 1 });
    expect(await cache.get('k')).toEqual({ v: { id: 1 }, at: expect.any(Number), w: expect.any(Number) });
    await cache.set('plain', { id: 2 });
    expect(await aged.read('plain')).toBe(MISS);
  });

  it("an early envelope is due at the sooner of its own refresh time and the decision's refreshAfter", async () => {
    const written = Date.now() - 5000;
    const early = { v: 'value', at: written + 40_000 };
    await cache.set('k', { v: early, at: written + 60_000, w: written }, { ttl: 60_000 });
    expect(await agedCache(engineOf(cache), { ttl: 60_000, refreshAfter: 50_000 }).read('k')).toEqual(early);
    expect(await agedCache(engineOf(cache), { ttl: 10_000, refreshAfter: 4000 }).read('k')).toEqual({
      v: 'value',
      at: written + 4000,
    });
  });

  it('an entry whose write time is not a finite number, or later than a second from now, is a miss', () => {
    const now = 1_000_000;
    for (const w of [1e15, Infinity, NaN, now + 5000]) expect(freshEntry({ v: 'x', at: 0, w }, 10_000, now)).toBe(MISS);
    expect(freshEntry({ v: 'x', at: NaN, w: now }, 10_000, now)).toBe(MISS);
    // Clocks of two processes a little apart: an entry written up to a second ahead is fresh, for at most the TTL.
    expect(freshEntry({ v: 'x', at: now + 10_500, w: now + 500 }, 10_000, now)).toMatchObject({ left: 10_000 });
  });

  it('an early envelope whose refresh time is not a finite number is due', async () => {
    const written = Date.now() - 1000;
    await cache.set('k', { v: { v: 'value', at: NaN }, at: written + 60_000, w: written }, { ttl: 60_000 });
    const read = (await agedCache(engineOf(cache), { ttl: 60_000, refreshAfter: 50_000 }).read('k')) as {
      at: number;
    };
    expect(read.at).toBeLessThanOrEqual(Date.now());
  });
});
