/**
 * Safe mode: decorated provider methods on a Redis URL where nothing listens still run and answer.
 * Uses no Redis at all (port 1 on loopback).
 */
import { Injectable } from '@nestjs/common';
import { backgroundSettled, Cache, CacheDetect, Early, Failover, HitCache, Locked, Soft } from '../../lib/index.js';
import { closeApps, rejection, startApp } from '../support/strategy-fixtures.js';

const DEAD = 'redis://127.0.0.1:1/0?connect_timeout=200ms';

class SmError extends Error {}

@Injectable()
class SmService {
  calls = 0;
  failWith?: Error;

  private run(id: number) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return `${id}#${this.calls}`;
  }

  @Cache({ ttl: '10s' })
  async cached(id: number) {
    return this.run(id);
  }

  @Cache({ ttl: '10s', lock: true, lockTtl: 200, step: 10 })
  async cachedLocked(id: number) {
    return this.run(id);
  }

  @Failover({ ttl: '10s' })
  async failover(id: number) {
    return this.run(id);
  }

  @HitCache({ ttl: '10s', cacheHits: 3 })
  async hit(id: number) {
    return this.run(id);
  }

  @Early({ ttl: '10s', earlyTtl: '1s' })
  async early(id: number) {
    return this.run(id);
  }

  @Soft({ ttl: '10s', softTtl: '1s' })
  async soft(id: number) {
    return this.run(id);
  }

  @Locked({ ttl: '1s', wait: false })
  async locked(id: number) {
    return this.run(id);
  }
}

describe('decorators in safe mode on an unreachable Redis', () => {
  let svc: SmService;

  beforeEach(async () => {
    const started = await startApp(DEAD, [SmService]);
    svc = started.app.get(SmService);
  });
  afterEach(async () => {
    await backgroundSettled();
    await closeApps();
  });

  it('@Cache: the method runs on every call and answers, nothing throws', async () => {
    expect(await svc.cached(1)).toBe('1#1');
    expect(await svc.cached(1)).toBe('1#2');
    const { result, hits } = await CacheDetect.run(() => svc.cached(1));
    expect(result).toBe('1#3');
    expect(hits).toEqual([]);
  });

  it('@Cache: errors of the method still propagate', async () => {
    const error = new SmError('bug');
    svc.failWith = error;
    expect(await rejection(svc.cached(1))).toBe(error);
  });

  it('@Cache with lock: true runs without the lock', async () => {
    expect(await svc.cachedLocked(1)).toBe('1#1');
  });

  it('@Failover, @HitCache, @Early, @Soft and @Locked answer too', async () => {
    expect(await svc.failover(1)).toBe('1#1');
    expect(await svc.hit(1)).toBe('1#2');
    expect(await svc.early(1)).toBe('1#3');
    expect(await svc.soft(1)).toBe('1#4');
    expect(await svc.locked(1)).toBe('1#5');
    expect(svc.calls).toBe(5);
  });

  it('@Failover with nothing reachable rethrows the original error', async () => {
    const error = new SmError('down');
    svc.failWith = error;
    expect(await rejection(svc.failover(1))).toBe(error);
  });
});
