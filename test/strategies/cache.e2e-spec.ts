/**
 * `@Cache` on provider methods, inside a real Nest app, on mem:// and Redis db 8: the storing scenarios every
 * storing strategy shares (test/support/storing-scenarios.ts), then what only `@Cache` does.
 * Every class name and key template here starts with "Cx" (see test/support/strategy-fixtures.ts).
 */
import { jest } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Cache, type CacheService } from '../../lib/index.js';
import { storingScenarios, type StoringStrategy } from '../support/storing-scenarios.js';
import {
  cleanup,
  closeApps,
  defaultKeyPattern,
  describeBackends,
  fakeClocks,
  keysOf,
  startApp,
} from '../support/strategy-fixtures.js';

const TAG = 'Cx';

const CACHE: StoringStrategy = {
  name: 'cache',
  tag: TAG,
  serves: 'hit',
  envelope: false,
  hitCounter: false,
  stampedeLock: true,
  ttlFunction: true,
};

describeBackends('@Cache: storing scenarios', ({ url }) => storingScenarios(CACHE, (options) => Cache(options), url));

@Injectable()
class CxConditions {
  calls = 0;

  /** Takes `ms` of the faked `performance` clock, the one call durations are measured with. */
  @Cache({ ttl: '10s', timeCondition: '200ms' })
  async timed(ms: number) {
    this.calls++;
    jest.advanceTimersByTime(ms);
    return `${ms}#${this.calls}`;
  }
}

describeBackends('@Cache on a provider', ({ url }) => {
  let cache: CacheService;
  let conditions: CxConditions;

  beforeEach(async () => {
    await cleanup(url, TAG);
    const started = await startApp(url, [CxConditions]);
    cache = started.cache;
    conditions = started.app.get(CxConditions);
  });

  afterEach(async () => {
    jest.useRealTimers();
    await closeApps();
  });

  it("timeCondition '200ms' stores only calls that took 200 ms or more", async () => {
    fakeClocks('performance');
    expect(await conditions.timed(0)).toBe('0#1');
    expect(await conditions.timed(199)).toBe('199#2');
    expect(await conditions.timed(199)).toBe('199#3');
    expect(await conditions.timed(200)).toBe('200#4');
    expect(await conditions.timed(200)).toBe('200#4');
    expect(conditions.calls).toBe(4);
    const stored = await keysOf(cache, 'CxConditions:timed*');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatch(defaultKeyPattern('CxConditions:timed', '200'));
  });
});
