/**
 * `@Adaptive` fleet sharing: two Nest applications on one Redis (db 8) stand for two processes. One sees the traffic,
 * the other a call per window; both end up running the method under the fleet's one decision. Windows are read from
 * `Date`, faked alone (fakeClocks), so both applications share window indexes without sleeping. Every class name and
 * key starts with "AdF".
 */
import { Injectable, type INestApplication } from '@nestjs/common';
import { jest } from '@jest/globals';
import { Adaptive, type AdaptiveStats, type CacheService } from '../../lib/index.js';
import { CashewsRegistry } from '../../lib/cashews.registry.js';
import { redisSkipReason, redisUrl } from '../support/redis.js';
import {
  cleanup,
  closeApps,
  fakeClocks,
  keysOf,
  protectionKeysOf,
  startApp,
  STRATEGY_DB,
} from '../support/strategy-fixtures.js';

const TAG = 'AdF';
const WINDOW = 1000;

@Injectable()
class AdFCatalogue {
  runs = 0;

  @Adaptive({ maxTtl: '1m', window: WINDOW, key: 'AdFItem:{id}' })
  async item(id: number) {
    this.runs++;
    return { id };
  }
}

function adaptiveRow(cache: CacheService): AdaptiveStats | undefined {
  return cache.stats().methods.find((row) => row.method === 'AdFCatalogue.item')?.adaptive;
}

interface Member {
  app: INestApplication;
  cache: CacheService;
  catalogue: AdFCatalogue;
}

async function member(url: string): Promise<Member> {
  const { app, cache } = await startApp(url, [AdFCatalogue]);
  return { app, cache, catalogue: app.get(AdFCatalogue) };
}

/** Waits for the fleet exchanges the calls so far started (background work of each application). */
async function settled(...members: Member[]): Promise<void> {
  await Promise.all(members.map((m) => m.app.get(CashewsRegistry).settled()));
}

const url = redisUrl(STRATEGY_DB);
(url ? describe : describe.skip)(`@Adaptive fleet sharing on redis db 8${url ? '' : ` [${redisSkipReason()}]`}`, () => {
  beforeEach(async () => {
    await cleanup(url!, TAG);
    fakeClocks('Date');
  });
  afterEach(async () => {
    await closeApps();
    jest.useRealTimers();
  });

  it('a process that sees almost no traffic adopts the decision the fleet made from the busy one', async () => {
    const busy = await member(url!);
    const quiet = await member(url!);
    let windows = 0;
    for (; windows < 8; windows++) {
      for (let i = 0; i < 30; i++) await busy.catalogue.item(i % 3);
      await quiet.catalogue.item(100 + windows); // alone, a handful of unique calls: never worth caching
      await settled(busy, quiet);
      jest.setSystemTime(Date.now() + WINDOW);
      const row = adaptiveRow(quiet.cache);
      if (row?.shared && row.store === 'cache') break;
    }
    expect(windows).toBeLessThanOrEqual(5); // two windows of evidence, one of patience, one of lag
    expect(adaptiveRow(quiet.cache)).toMatchObject({ store: 'cache', shared: true });
    expect(adaptiveRow(busy.cache)).toMatchObject({ store: 'cache', shared: true });
    // One decision for both: the same TTL, from the one stored fleet state.
    expect(adaptiveRow(quiet.cache)?.ttlMs).toBe(adaptiveRow(busy.cache)?.ttlMs);
    // Stored as protection state: no cache command (deleteMatch, a request's no-cache) reaches it.
    expect(await protectionKeysOf(busy.cache, 'AdFCatalogue:item:adaptive:state')).toHaveLength(1);
    expect(await keysOf(busy.cache, 'AdFCatalogue:item:adaptive:state')).toHaveLength(0);
    // The quiet process now reads what the busy one stores, without running the method.
    for (let i = 0; i < 3; i++) await busy.catalogue.item(i);
    const runs = quiet.catalogue.runs;
    expect(await quiet.catalogue.item(1)).toEqual({ id: 1 });
    expect(quiet.catalogue.runs).toBe(runs);
  });
});
