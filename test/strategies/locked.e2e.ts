/**
 * `@Locked` on provider methods, inside a real Nest app, on mem:// and Redis db 8.
 * Every class name and key template here starts with "Lk" (see test/support/strategy-fixtures.ts).
 */
import { Injectable } from '@nestjs/common';
import { Locked, LockedError, type CacheService } from '../../lib/index.js';
import {
  cleanup,
  closeApps,
  Concurrency,
  defaultKeyPattern,
  deferred,
  describeBackends,
  orAfter,
  protectionKeysOf,
  rejection,
  sleep,
  startApp,
} from '../support/strategy-fixtures.js';

const TAG = 'Lk';

@Injectable()
class LkInvoices {
  calls = 0;
  order: string[] = [];
  tracker = new Concurrency();
  failNext = false;
  /** When set, a method body calls `entered` (its lock is held) and then waits for `gate` instead of sleeping. */
  entered?: () => void;
  gate?: Promise<void>;

  private async hold(ms: number): Promise<void> {
    this.entered?.();
    if (this.gate) await this.gate;
    else await sleep(ms);
  }

  @Locked({ ttl: '2s', step: 5 })
  async charge(id: string, label: string) {
    return this.tracker.run(async () => {
      this.calls++;
      this.order.push(`start:${label}`);
      await this.hold(40);
      this.order.push(`end:${label}`);
      if (this.failNext) {
        this.failNext = false;
        throw new Error(`failed ${id}`);
      }
      return `${id}:${label}`;
    });
  }

  @Locked({ ttl: '2s', wait: false, key: 'LkNoWait:{id}' })
  async noWait(id: string) {
    return this.tracker.run(async () => {
      this.calls++;
      await this.hold(60);
      return id;
    });
  }

  @Locked({ ttl: '2s', wait: 30, step: 5 })
  async shortWait(id: string) {
    this.calls++;
    await this.hold(150);
    return id;
  }
}

/** Whether a lock of LkInvoices.charge('a', '1') is held, whatever the version segment of its default key. */
async function lockHeld(cache: CacheService): Promise<boolean> {
  const pattern = defaultKeyPattern('LkInvoices:charge', "a:'1':locked");
  return (await protectionKeysOf(cache, 'LkInvoices:charge*')).some((key) => pattern.test(key));
}

describeBackends('@Locked on a provider', ({ url }) => {
  let cache: CacheService;
  let svc: LkInvoices;

  beforeEach(async () => {
    await cleanup(url, TAG);
    const started = await startApp(url, [LkInvoices]);
    cache = started.cache;
    svc = started.app.get(LkInvoices);
  });
  afterEach(closeApps);

  it('concurrent calls with the same key run one after the other', async () => {
    const results = await Promise.all([svc.charge('a', '1'), svc.charge('a', '1'), svc.charge('a', '1')]);
    expect(results).toEqual(['a:1', 'a:1', 'a:1']);
    expect(svc.calls).toBe(3);
    expect(svc.tracker.max).toBe(1);
    expect(svc.order).toEqual(['start:1', 'end:1', 'start:1', 'end:1', 'start:1', 'end:1']);
    expect(await lockHeld(cache)).toBe(false);
  });

  it('different keys run in parallel', async () => {
    const gate = deferred();
    const bothInside = deferred();
    let inside = 0;
    svc.gate = gate.promise;
    svc.entered = () => (++inside === 2 ? bothInside.resolve() : undefined);
    const running = Promise.all([svc.charge('a', '1'), svc.charge('b', '1')]);
    // Both bodies run at once: neither lock waits for the other (a wrongly shared lock would never get here).
    expect(
      await orAfter(
        bothInside.promise.then(() => 'both inside'),
        5000,
        'one waits',
      ),
    ).toBe('both inside');
    gate.resolve();
    const results = await running;
    expect(results).toEqual(['a:1', 'b:1']);
    expect(svc.tracker.max).toBe(2);
  });

  it('holds the lock under key:locked while running', async () => {
    const entered = deferred();
    const gate = deferred();
    svc.entered = entered.resolve;
    svc.gate = gate.promise;
    const running = svc.charge('a', '1');
    await entered.promise;
    expect(await lockHeld(cache)).toBe(true);
    gate.resolve();
    await running;
    expect(await lockHeld(cache)).toBe(false);
  });

  it('wait: false rejects the second caller with LockedError', async () => {
    const entered = deferred();
    const gate = deferred();
    svc.entered = entered.resolve;
    svc.gate = gate.promise;
    const first = svc.noWait('x');
    await entered.promise; // the first caller holds the lock
    const error = await rejection(svc.noWait('x'));
    expect(error).toBeInstanceOf(LockedError);
    gate.resolve();
    svc.gate = undefined;
    expect(await first).toBe('x');
    expect(svc.calls).toBe(1);
    // Once released, the next call goes through.
    expect(await svc.noWait('x')).toBe('x');
    expect(svc.calls).toBe(2);
  });

  it('wait: false does not block other keys', async () => {
    const gate = deferred();
    const bothInside = deferred();
    let inside = 0;
    svc.gate = gate.promise;
    svc.entered = () => (++inside === 2 ? bothInside.resolve() : undefined);
    const running = Promise.all([svc.noWait('x'), svc.noWait('y')]);
    // Both bodies are inside at once, held there: neither call was turned away by the other's lock.
    expect(
      await orAfter(
        bothInside.promise.then(() => 'both inside'),
        5000,
        'one refused',
      ),
    ).toBe('both inside');
    gate.resolve();
    expect(await running).toEqual(['x', 'y']);
    expect(svc.tracker.max).toBe(2);
  });

  it('a wait shorter than the holder rejects with LockedError', async () => {
    const entered = deferred();
    const gate = deferred();
    svc.entered = entered.resolve;
    svc.gate = gate.promise;
    const first = svc.shortWait('s');
    await entered.promise; // held until the gate opens, far beyond the 30 ms wait
    expect(await rejection(svc.shortWait('s'))).toBeInstanceOf(LockedError);
    gate.resolve();
    expect(await first).toBe('s');
    expect(svc.calls).toBe(1);
  });

  it('the lock is released after a throw: the next call succeeds', async () => {
    svc.failNext = true;
    expect(await rejection(svc.charge('a', '1'))).toBeInstanceOf(Error);
    expect(await lockHeld(cache)).toBe(false);
    const started = Date.now();
    expect(await svc.charge('a', '1')).toBe('a:1');
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('a waiter behind a failing holder still runs', async () => {
    svc.failNext = true;
    const [first, second] = await Promise.allSettled([svc.charge('a', '1'), svc.charge('a', '1')]);
    expect(first.status).toBe('rejected');
    expect(second).toEqual({ status: 'fulfilled', value: 'a:1' });
    expect(svc.tracker.max).toBe(1);
  });
});
