import { createCache } from '../create-cache.js';
import { MemoryBackend } from './memory.backend.js';

/** Keeps the event loop busy: no timer can run meanwhile (what a long synchronous request handler does). */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('MemoryBackend tag index', () => {
  it('never holds more keys than the cache, however many distinct tags, with the sweep disabled', async () => {
    const cache = await createCache('mem://?size=100&check_interval=0');
    const index = (cache.backend as MemoryBackend).tagIndex;
    try {
      for (let i = 0; i < 5_000; i++) await cache.set(`k${i}`, i, { tags: [`t${i}`, 'all'] });
      let indexed = 0;
      for (let i = 0; i < 5_000; i++) indexed += index.size(`t${i}`);
      expect(indexed).toBe(100);
      expect(index.size('all')).toBe(100);
      expect(await cache.deleteTags('all')).toBe(100);
      expect(index.size('t4999')).toBe(0);
    } finally {
      await cache.close();
    }
  });

  it('forgets a key when it is deleted, keeps it when it is overwritten without tags', async () => {
    const cache = await createCache('mem://?check_interval=0');
    const index = (cache.backend as MemoryBackend).tagIndex;
    try {
      await cache.set('a', 1, { tags: ['t', 'u'] });
      await cache.set('b', 2, { tags: ['t'] });
      await cache.delete('a');
      expect(index.size('t')).toBe(1);
      expect(index.size('u')).toBe(0);
      await cache.set('b', 3); // as on Redis: still in "t" (over-invalidation, never stale data)
      expect(await cache.deleteTags('t')).toBe(1);
      expect(await cache.exists('b')).toBe(false);
    } finally {
      await cache.close();
    }
  });
});

describe('MemoryBackend clock', () => {
  it('getExpire never reports more than the TTL, even after the event loop was busy', async () => {
    const cache = await createCache('mem://');
    try {
      await cache.set('warm', 1, { ttl: '10s' });
      await cache.getExpire('warm'); // reading a TTL'd entry is what made lru-cache remember "now"
      busy(250);
      await cache.set('fresh', 1, { ttl: '10s' });
      const left = await cache.getExpire('fresh');
      expect(left).toBeLessThanOrEqual(10_000);
      expect(left).toBeGreaterThan(9_000);
    } finally {
      await cache.close();
    }
  });

  it('never serves an entry past its TTL, even while the event loop is busy', async () => {
    const cache = await createCache('mem://');
    try {
      await cache.set('short', 1, { ttl: '200ms' });
      expect(await cache.get('short')).toBe(1);
      busy(400);
      expect(await cache.get('short', 'miss')).toBe('miss');
      expect(await cache.exists('short')).toBe(false);
      expect(await cache.getExpire('short')).toBe(-2);
    } finally {
      await cache.close();
    }
  });
});

describe('MemoryBackend on a fake clock', () => {
  let now: number;
  let backend: MemoryBackend;
  beforeEach(() => {
    now = 1_000; // lru-cache reads a start time of 0 as "no TTL"
    backend = new MemoryBackend({ size: 10, checkInterval: 0, clock: { now: () => now } });
  });

  it('counts TTLs on the given clock, down to the millisecond', async () => {
    await backend.set('k', 'v', { ttl: 10_000 });
    expect(await backend.getExpire('k')).toBe(10_000);
    now += 3_000;
    expect(await backend.getExpire('k')).toBe(7_000);
    now += 7_000;
    expect(await backend.get('k')).toBe('v'); // 0 ms left: still there, as on Redis
    now += 1;
    expect(await backend.get('k')).toBeUndefined();
    expect(await backend.getExpire('k')).toBe(-2);
  });

  it('drops an expired key from its tags once it is purged', async () => {
    await backend.setTagged('k', 'v', ['t'], { ttl: 100 });
    await backend.setTagged('forever', 'v', ['t']);
    expect(backend.tagIndex.size('t')).toBe(2);
    now += 101;
    expect(await backend.get('k')).toBeUndefined(); // a read purges it
    expect(backend.tagIndex.size('t')).toBe(1);
    expect(await backend.deleteTags(['t'])).toBe(1);
    expect(backend.tagIndex.counts()).toEqual({ tags: 0, keys: 0 });
  });
});
