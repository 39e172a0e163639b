/**
 * Stacked decorators on provider methods: layers run outermost (topmost) first. Real Nest app, mem:// and
 * Redis db 8. Every class name and key template here starts with "St" (see test/support/strategy-fixtures.ts).
 */
import { Injectable } from '@nestjs/common';
import {
  backgroundSettled,
  Cache,
  CacheDetect,
  Early,
  Failover,
  HitCache,
  Invalidate,
  Locked,
  LockedError,
  Soft,
  type CacheService,
} from '../../lib/index.js';
import {
  cleanup,
  closeApps,
  deferred,
  describeBackends,
  keysOf,
  orAfter,
  rejection,
  sleep,
  startApp,
} from '../support/strategy-fixtures.js';
import { pollUntil } from '../support/redis.js';

const TAG = 'St';

class StUpstreamError extends Error {}

const seen: string[] = [];
const record =
  (layer: string) =>
  (_result: unknown): boolean => {
    seen.push(layer);
    return true;
  };

@Injectable()
class StStack {
  calls = 0;
  failWith?: Error;
  /** lockedCache: called once the method body runs (the lock is held), then the body waits for `gate`. */
  entered?: () => void;
  gate?: Promise<void>;

  /** Locked outermost: a second caller is turned away before it can share the cache's single flight. */
  @Locked({ ttl: '2s', wait: false, key: 'StLock:{id}' })
  @Cache({ ttl: '10s', key: 'StLockedCache:{id}' })
  async lockedCache(id: number) {
    this.calls++;
    this.entered?.();
    if (this.gate) await this.gate;
    return `${id}#${this.calls}`;
  }

  /** Locked (waiting) above Cache: waiters get the stored value once the holder is done. */
  @Locked({ ttl: '2s', step: 5 })
  @Cache({ ttl: '10s' })
  async waitingLockedCache(id: number) {
    this.calls++;
    if (this.gate) await this.gate;
    return `${id}#${this.calls}`;
  }

  /** Failover outermost with its own key: it catches what the inner Cache lets through. */
  @Failover({ ttl: '10s', key: 'StFo:{id}', condition: record('failover') })
  @Cache({ ttl: 300, key: 'StCa:{id}', condition: record('cache') })
  async failoverCacheKeyed(id: number) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return `${id}#${this.calls}`;
  }

  /** The same stack with default keys, as users write it. */
  @Failover({ ttl: '10s' })
  @Cache({ ttl: 300 })
  async failoverCache(id: number) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return `${id}#${this.calls}`;
  }

  @Failover({ ttl: '10s' })
  @Soft({ ttl: '5s', softTtl: '1s' })
  async failoverSoft(id: number) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return `${id}#${this.calls}`;
  }

  @Failover({ ttl: '10s' })
  @Early({ ttl: '5s', earlyTtl: '1s' })
  async failoverEarly(id: number) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return `${id}#${this.calls}`;
  }

  /** Two storing layers with the same default key, and arguments a caller chooses (see the collision test). */
  @Cache({ ttl: '10s' })
  @Failover({ ttl: '10s' })
  async owned(id: number, view?: string) {
    this.calls++;
    return view === undefined ? `private data of ${id}` : `public ${view} of ${id}`;
  }

  /** Soft outermost: the inner Failover's fallback must not hand Soft its own envelope. */
  @Soft({ ttl: '5s', softTtl: 300 })
  @Failover({ ttl: '10s' })
  async softFailover(id: number) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return `${id}#${this.calls}`;
  }

  /** Two stampede-protected layers on one method: each has its own single flight. */
  @Cache({ ttl: '10s' })
  @Soft({ ttl: '5s', softTtl: '1s' })
  async cacheSoft(id: number) {
    this.calls++;
    return `${id}#${this.calls}`;
  }

  @Failover({ ttl: '10s' })
  @HitCache({ ttl: '5s', cacheHits: 10 })
  async failoverHit(id: number) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return `${id}#${this.calls}`;
  }
}

/** Invalidates StStack.owned, whose inner @Failover stores under a stacked key. */
@Injectable()
class StForget {
  @Invalidate([StStack, 'owned'])
  async forget(id: number, view?: string) {
    void id;
    void view;
  }
}

describeBackends('stacked decorators on a provider', ({ url }) => {
  let cache: CacheService;
  let svc: StStack;
  let started: Awaited<ReturnType<typeof startApp>>;

  beforeEach(async () => {
    seen.length = 0;
    await cleanup(url, TAG);
    started = await startApp(url, [StStack, StForget]);
    cache = started.cache;
    svc = started.app.get(StStack);
  });
  afterEach(async () => {
    await backgroundSettled();
    await closeApps();
  });

  it('@Locked(wait: false) above @Cache: the lock is taken first, a concurrent caller gets LockedError', async () => {
    const entered = deferred();
    const gate = deferred();
    svc.entered = entered.resolve;
    svc.gate = gate.promise;
    const first = svc.lockedCache(1);
    await entered.promise; // the first caller holds the lock and waits inside the method
    expect(await rejection(svc.lockedCache(1))).toBeInstanceOf(LockedError);
    gate.resolve();
    svc.gate = undefined;
    expect(await first).toBe('1#1');
    // Lock released, value cached: the next call is a hit behind the lock.
    expect(await svc.lockedCache(1)).toBe('1#1');
    expect(svc.calls).toBe(1);
    expect(await cache.isLocked('StLock:1:locked')).toBe(false);
    expect(await cache.get('StLockedCache:1')).toBe('1#1');
  });

  it('@Locked above @Cache: waiters run one at a time and get the stored value', async () => {
    const gate = deferred();
    svc.gate = gate.promise;
    const commands = () => cache.stats().backends.reduce((total, backend) => total + backend.commands, 0);
    const before = commands();
    const running = Promise.all(Array.from({ length: 5 }, () => svc.waitingLockedCache(1)));
    // The holder is held inside until the four others have each tried the lock a few times: they are waiting.
    const waiting = await pollUntil(async () => svc.calls === 1 && commands() - before >= 4 * 3 + 1, 5_000, 1);
    svc.gate = undefined;
    gate.resolve();
    expect(waiting).toBe(true);
    expect(await running).toEqual(Array(5).fill('1#1'));
    expect(svc.calls).toBe(1);
  });

  it("an inner layer's entry (same default key) is never another call's: owned(42, 'failover') is not owned(42)", async () => {
    // The inner @Failover shares the outer @Cache's default key and gets a suffix; an argument must not render as it.
    await expect(svc.owned(42)).resolves.toBe('private data of 42');
    await expect(svc.owned(42, 'failover')).resolves.toBe('public failover of 42');
    await expect(svc.owned(42, '%failover')).resolves.toBe('public %failover of 42');
    expect(svc.calls).toBe(3);
  });

  it("@Invalidate of a stacked method deletes the inner layer's entry too, under its stacked key", async () => {
    await svc.owned(7, 'x');
    const stored = await keysOf(cache, 'StStack:owned:*');
    expect(stored.filter((key) => key.endsWith(':%failover'))).toHaveLength(1);
    expect(stored).toHaveLength(2);
    await started.app.get(StForget).forget(7, 'x');
    expect(await keysOf(cache, 'StStack:owned:*')).toEqual([]);
  });

  it('@Failover above @Cache: inner layers store first, the outer Failover catches an error from inside', async () => {
    expect(await svc.failoverCacheKeyed(1)).toBe('1#1');
    expect(seen).toEqual(['cache', 'failover']);
    expect(await svc.failoverCacheKeyed(1)).toBe('1#1'); // a Cache hit: Failover does not store it again
    expect(seen).toEqual(['cache', 'failover']);
    expect(svc.calls).toBe(1);
    await sleep(500); // the Cache entry expired; Failover's did not
    svc.failWith = new StUpstreamError('down');
    const { result, hits } = await CacheDetect.run(() => svc.failoverCacheKeyed(1));
    expect(result).toBe('1#1');
    expect(svc.calls).toBe(2);
    expect(hits).toEqual([expect.objectContaining({ key: 'StFo:1', strategy: 'failover', stale: true })]);
    expect(await cache.exists('StCa:1')).toBe(false);
  });

  it('@Failover above @Cache with default keys: the Cache entry still expires after its own ttl', async () => {
    expect(await svc.failoverCache(1)).toBe('1#1');
    expect(await svc.failoverCache(1)).toBe('1#1');
    expect(svc.calls).toBe(1);
    await sleep(500);
    expect(await svc.failoverCache(1)).toBe('1#2');
    expect(svc.calls).toBe(2);
  });

  it('@Failover above @Soft with default keys: Soft still serves from cache within softTtl', async () => {
    expect(await svc.failoverSoft(1)).toBe('1#1');
    expect(await svc.failoverSoft(1)).toBe('1#1');
    expect(svc.calls).toBe(1);
  });

  it('@Failover above @Early with default keys: Early still serves from cache before earlyTtl', async () => {
    expect(await svc.failoverEarly(1)).toBe('1#1');
    expect(await svc.failoverEarly(1)).toBe('1#1');
    expect(svc.calls).toBe(1);
  });

  it('@Soft above @Failover with default keys: a failed recompute answers the plain value, not an envelope', async () => {
    expect(await svc.softFailover(1)).toBe('1#1');
    await sleep(500);
    svc.failWith = new StUpstreamError('down');
    expect(await svc.softFailover(1)).toBe('1#1');
    expect(svc.calls).toBe(2);
  });

  it('@Cache above @Soft with default keys: a cold call completes (no single-flight self-wait)', async () => {
    const outcome = await orAfter(svc.cacheSoft(1), 500, 'timed out');
    expect(outcome).toBe('1#1');
    expect(svc.calls).toBe(1);
  });

  it('@Failover above @HitCache with default keys: hits are served and failover answers the plain value', async () => {
    expect(await svc.failoverHit(1)).toBe('1#1');
    expect(await svc.failoverHit(1)).toBe('1#1');
    expect(svc.calls).toBe(1);
  });
});
