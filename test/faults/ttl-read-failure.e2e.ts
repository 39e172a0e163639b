/**
 * Issue #15: a detected hit on Redis asks the value and its remaining TTL together (`GET` and `PTTL` in one write).
 * When only the TTL fails (here a server whose `PTTL` is renamed away, so the `GET` still answers), the hit is what it
 * would have been with the TTL asked after it: in safe mode the value is served, reported with ttl -2 and the failure
 * logged; without safe mode the call fails with CacheBackendError. A detected miss drops the TTL's failure unlogged.
 */
import { jest } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Cache, CacheBackendError, CacheDetect, CashewsModule } from '../../lib/index.js';
import { captureLogs } from '../support/logged.js';
import { describeRedisServer, startRedisServer, withQuery, type RedisServerHandle } from '../support/redis.js';

let runs = 0;

@Injectable()
class Prices {
  @Cache({ ttl: '1m', key: 'ttl-fail:{id}' })
  async price(id: string): Promise<{ id: string; run: number }> {
    runs++;
    return { id, run: runs };
  }
}

describeRedisServer('faults: the remaining TTL of a detected hit fails, its value does not', () => {
  let server: RedisServerHandle | undefined;
  let app: TestingModule | undefined;

  beforeAll(async () => {
    server = await startRedisServer({ extraArgs: () => ['--rename-command', 'PTTL', '""'] });
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await app?.close();
    app = undefined;
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function start(safe: boolean): Promise<Prices> {
    const url = withQuery(`${server!.url}/0`, { safe: safe ? '1' : '0' });
    @Module({ imports: [CashewsModule.forRoot(url)], providers: [Prices] })
    class AppModule {}
    app = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await app.init();
    return app.get(Prices);
  }

  it('safe mode: the hit is served and reported with ttl -2, the failure logged once', async () => {
    const prices = await start(true);
    const id = `safe-${Date.now()}`;
    const stored = await prices.price(id);
    const lines = captureLogs();
    const result = await CacheDetect.run(() => prices.price(id));
    expect(result.result).toEqual(stored);
    expect(result.hits).toEqual([{ strategy: 'cache', key: `ttl-fail:${id}`, ttl: -2 }]);
    expect(lines.filter((line) => /failed on getExpire/.test(line))).toHaveLength(1);
  });

  it('without safe mode: the detected hit fails with CacheBackendError; undetected, it is served', async () => {
    const prices = await start(false);
    const id = `strict-${Date.now()}`;
    const stored = await prices.price(id);
    const failed = await CacheDetect.run(() => prices.price(id)).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(CacheBackendError);
    expect((failed as Error).message).toMatch(/failed on getExpire/);
    await expect(prices.price(id)).resolves.toEqual(stored);
  });

  it('a detected miss computes, stores and reports nothing; the failed TTL is not logged', async () => {
    const prices = await start(true);
    const id = `miss-${Date.now()}`;
    const before = runs;
    const lines = captureLogs();
    const result = await CacheDetect.run(() => prices.price(id));
    expect(result.hits).toEqual([]);
    expect(result.result).toEqual({ id, run: before + 1 });
    expect(lines.filter((line) => /getExpire/.test(line))).toEqual([]);
    await expect(prices.price(id)).resolves.toEqual({ id, run: before + 1 });
  });
});
