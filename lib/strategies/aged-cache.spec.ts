import { createCache } from '../create-cache.js';
import type { CacheService } from '../cache.service.js';
import { engineOf } from '../engine/engine-of.js';
import { MISS } from '../miss.js';
import { agedCache } from './aged-cache.js';
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
});
