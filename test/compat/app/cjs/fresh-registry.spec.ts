/* eslint-disable @typescript-eslint/no-require-imports -- the point is a fresh require() in an isolated registry */
import { CacheService } from 'nestjs-cashews';

type Loaded = {
  cashews: typeof import('nestjs-cashews');
  common: typeof import('@nestjs/common');
  testing: typeof import('@nestjs/testing');
};

describe('a fresh module registry (jest.isolateModules, jest.resetModules)', () => {
  it('gets its own copy of the package, bound to its own @nestjs/core, and that copy boots', async () => {
    let fresh: Loaded | undefined;
    jest.isolateModules(() => {
      fresh = {
        cashews: require('nestjs-cashews'),
        common: require('@nestjs/common'),
        testing: require('@nestjs/testing'),
      };
    });
    const { cashews, common, testing } = fresh!;
    expect(cashews.CacheService).not.toBe(CacheService);

    @common.Injectable()
    class Counter {
      runs = 0;

      @cashews.Cache({ ttl: '1m' })
      async next(): Promise<number> {
        return ++this.runs;
      }
    }
    const moduleRef = await testing.Test.createTestingModule({
      imports: [cashews.CashewsModule.forRoot('mem://')],
      providers: [Counter],
    }).compile();
    await moduleRef.init();
    const counter = moduleRef.get(Counter);
    expect([await counter.next(), await counter.next()]).toEqual([1, 1]);
    expect(await moduleRef.get(cashews.CacheService).ping()).toBe('PONG');
    await moduleRef.close();
  });
});
