/**
 * Decorated services and a controller shared by the usage-statistics suites, and a scripted sequence of calls
 * whose counts the suites assert exactly.
 */
import { Controller, Get, Injectable, Param } from '@nestjs/common';
import { Cache, CircuitBreaker, Failover, RateLimit, type CacheService } from '../../lib/index.js';
import { heldCalls, readsOf } from '../support/strategy-fixtures.js';

export class UpstreamDown extends Error {}

/** How long a run of {@link CatalogueService.item} takes, in ms of the clock durations are measured with. */
export const ITEM_MS = 20;

@Injectable()
export class CatalogueService {
  /**
   * Lets `ms` pass during a run. None by default; a suite that asserts durations fakes `performance` (the clock
   * they are measured with) and sets this to `jest.advanceTimersByTime`, so a run takes exactly `ms`.
   */
  static spend: (ms: number) => void = () => undefined;

  runs = 0;
  /** Holds `slow` while concurrent callers join its run (see {@link scriptedCalls}). */
  gate?: Promise<void>;

  @Cache({ ttl: '1m', key: 'stats:item:{id}' })
  async item(id: number): Promise<{ id: number }> {
    this.runs++;
    CatalogueService.spend(ITEM_MS);
    return { id };
  }

  @Cache({ ttl: '1m', key: 'stats:slow:{id}' })
  async slow(id: number): Promise<number> {
    this.runs++;
    if (this.gate) await this.gate;
    return id;
  }

  @Failover({ ttl: '1m', key: 'stats:price' })
  async price(fail: boolean): Promise<number> {
    if (fail) throw new UpstreamDown('down');
    return 42;
  }

  @RateLimit({ limit: 2, period: '1m', key: 'stats:limited' })
  async limited(): Promise<string> {
    return 'ok';
  }

  @CircuitBreaker({ errorsRate: 50, period: '1m', ttl: '1m', minCalls: 2, key: 'stats:breaker' })
  async breaker(fail: boolean): Promise<string> {
    if (fail) throw new UpstreamDown('down');
    return 'ok';
  }
}

@Controller('items')
export class ItemsController {
  @Get(':id')
  @Cache({ ttl: '1m', key: 'stats:http:{id}' })
  get(@Param('id') id: string): { id: string } {
    return { id };
  }
}

/** Swallows the rejection of `promise`, answering its error. */
export async function failed(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/**
 * The scripted sequence on `cache`, the instance `service` uses: item 1 three times and item 2 once (2 hits,
 * 2 misses), 5 concurrent cold `slow(7)` calls (1 run, 4 sharing it), price ok then failing (1 stale), 3 calls
 * against a limit of 2 (1 rejection), two failing breaker calls that open the circuit, then one refused by it.
 */
export async function scriptedCalls(service: CatalogueService, cache: CacheService): Promise<void> {
  await service.item(1);
  await service.item(1);
  await service.item(1);
  await service.item(2);
  // The run of slow(7) is held until all five callers have missed and one of them runs it: four share it.
  const runs = service.runs;
  const reads = readsOf(cache);
  await heldCalls(
    service,
    5,
    () => service.slow(7),
    () => readsOf(cache) - reads >= 5 && service.runs > runs,
  );
  await service.price(false);
  await service.price(true);
  await service.limited();
  await service.limited();
  await failed(service.limited());
  await failed(service.breaker(true));
  await failed(service.breaker(true));
  await failed(service.breaker(false));
}

/** What {@link scriptedCalls} must produce, per `method/strategy`. */
export const EXPECTED = {
  'CatalogueService.item/cache': {
    calls: 4,
    hits: 2,
    misses: 2,
    stale: 0,
    executions: 2,
    executionsAvoided: 2,
    errors: 0,
    rejections: 0,
  },
  'CatalogueService.slow/cache': {
    calls: 5,
    hits: 0,
    misses: 5,
    stale: 0,
    executions: 1,
    executionsAvoided: 4,
    errors: 0,
    rejections: 0,
  },
  'CatalogueService.price/failover': {
    calls: 2,
    hits: 0,
    misses: 1,
    stale: 1,
    executions: 2,
    executionsAvoided: 0,
    errors: 1,
    rejections: 0,
  },
  'CatalogueService.limited/rate-limit': {
    calls: 3,
    hits: 0,
    misses: 0,
    stale: 0,
    executions: 2,
    executionsAvoided: 0,
    errors: 0,
    rejections: 1,
  },
  'CatalogueService.breaker/circuit-breaker': {
    calls: 3,
    hits: 0,
    misses: 0,
    stale: 0,
    executions: 2,
    executionsAvoided: 0,
    errors: 2,
    rejections: 1,
    circuit: 'open',
  },
} as const;
