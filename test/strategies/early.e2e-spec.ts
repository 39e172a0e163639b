/**
 * `@Early` on provider methods, inside a real Nest app, on mem:// and Redis db 8: the storing scenarios every
 * storing strategy shares (test/support/storing-scenarios.ts), then the early refresh, which only `@Early` does.
 * The age of a stored value is read from `Date`, faked alone here, so it is set exactly instead of slept for.
 * Every class name and key template here starts with "Er" (see test/support/strategy-fixtures.ts).
 */
import { jest } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { backgroundSettled, Early, type EarlyDecoratorOptions } from '../../lib/index.js';
import { storingScenarios, type StoringStrategy } from '../support/storing-scenarios.js';
import { cleanup, closeApps, describeBackends, deferred, fakeClocks, startApp } from '../support/strategy-fixtures.js';

const TAG = 'Er';

const EARLY: StoringStrategy = {
  name: 'early',
  tag: TAG,
  serves: 'hit',
  envelope: true,
  hitCounter: false,
  stampedeLock: true,
  ttlFunction: false,
};

describeBackends('@Early: storing scenarios', ({ url }) =>
  storingScenarios(EARLY, (options) => Early(options as EarlyDecoratorOptions), url),
);

@Injectable()
class ErCatalogue {
  calls = 0;
  gate?: Promise<void>;
  failWith?: Error;

  @Early({ ttl: '2s', earlyTtl: 600 })
  async list(id: number) {
    this.calls++;
    if (this.gate) await this.gate;
    if (this.failWith) throw this.failWith;
    return `${id}#${this.calls}`;
  }
}

describeBackends('@Early on a provider', ({ url }) => {
  let svc: ErCatalogue;

  beforeEach(async () => {
    await cleanup(url, TAG);
    const started = await startApp(url, [ErCatalogue]);
    svc = started.app.get(ErCatalogue);
    fakeClocks('Date');
  });
  afterEach(async () => {
    jest.useRealTimers();
    await backgroundSettled();
    await closeApps();
  });

  /** Ages every stored value by `ms` (the hard ttl, kept by the backend in real time, is not touched). */
  const age = (ms: number) => jest.setSystemTime(Date.now() + ms);

  it('younger than earlyTtl: served from cache, no refresh; at earlyTtl one refresh starts', async () => {
    expect(await svc.list(1)).toBe('1#1');
    age(599);
    expect(await svc.list(1)).toBe('1#1');
    await backgroundSettled();
    expect(svc.calls).toBe(1);
    age(1);
    expect(await svc.list(1)).toBe('1#1');
    await backgroundSettled();
    expect(svc.calls).toBe(2);
    expect(await svc.list(1)).toBe('1#2');
  });

  it('after earlyTtl: the old value is answered at once and a background refresh stores a new one', async () => {
    expect(await svc.list(1)).toBe('1#1');
    age(800);
    const gate = deferred();
    svc.gate = gate.promise;
    // Answers although the refresh is held open: the caller never waits for it.
    expect(await svc.list(1)).toBe('1#1');
    gate.resolve();
    svc.gate = undefined;
    await backgroundSettled();
    expect(svc.calls).toBe(2);
    expect(await svc.list(1)).toBe('1#2');
    expect(svc.calls).toBe(2);
    // The refreshed value is fresh again: no further refresh right away.
    await backgroundSettled();
    expect(svc.calls).toBe(2);
  });

  it('concurrent calls in the early window trigger one refresh', async () => {
    await svc.list(1);
    age(800);
    const results = await Promise.all(Array.from({ length: 30 }, () => svc.list(1)));
    expect(results.every((r) => r === '1#1')).toBe(true);
    await backgroundSettled();
    expect(svc.calls).toBe(2);
    expect(await svc.list(1)).toBe('1#2');
  });

  it('sequential calls while a refresh runs trigger no second one', async () => {
    await svc.list(1);
    age(800);
    const gate = deferred();
    svc.gate = gate.promise;
    for (let i = 0; i < 5; i++) expect(await svc.list(1)).toBe('1#1');
    gate.resolve();
    svc.gate = undefined;
    await backgroundSettled();
    expect(svc.calls).toBe(2);
  });

  it('a failed background refresh keeps the old value and lets the next call retry', async () => {
    await svc.list(1);
    age(800);
    svc.failWith = new Error('upstream down');
    expect(await svc.list(1)).toBe('1#1');
    await backgroundSettled();
    expect(svc.calls).toBe(2);
    svc.failWith = undefined;
    expect(await svc.list(1)).toBe('1#1');
    await backgroundSettled();
    expect(svc.calls).toBe(3);
    expect(await svc.list(1)).toBe('1#3');
  });
});
