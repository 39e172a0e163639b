import { Injectable, Module } from '@nestjs/common';
import { LazyModuleLoader } from '@nestjs/core';
import { Test, type TestingModule } from '@nestjs/testing';
import { CashewsConfigError, CashewsModule, RateLimit, RateLimitError } from 'nestjs-cashews';

// NestJS 11 resolves a second load() of a module while the first one still builds it (its providers do not exist
// yet); NestJS 12 has it wait. Either way, once both have returned, the providers are decorated, once.
@Injectable()
class LazyMailer {
  runs = 0;

  @RateLimit({ limit: 2, period: '1m', key: 'compat:lazy-mail' })
  async send(): Promise<string> {
    this.runs++;
    return 'sent';
  }
}

let building: () => void;
const started = new Promise<void>((resolve) => (building = resolve));
let release: () => void;
const released = new Promise<void>((resolve) => (release = resolve));

@Module({
  providers: [
    {
      provide: LazyMailer,
      useFactory: async () => {
        building();
        await released;
        return new LazyMailer();
      },
    },
  ],
})
class SlowMailerModule {}

@Module({ imports: [CashewsModule.forRoot('mem://', { name: 'lazy-own' })] })
class OwnCacheModule {}

describe('a module loaded with LazyModuleLoader', () => {
  let moduleRef: TestingModule;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({ imports: [CashewsModule.forRoot('mem://')] }).compile();
    await moduleRef.init();
  });

  afterAll(async () => {
    await moduleRef.close();
  });

  it('is decorated, once, when two concurrent load() have returned', async () => {
    const loader = moduleRef.get(LazyModuleLoader);
    const first = loader.load(() => SlowMailerModule);
    await started;
    const second = loader.load(() => SlowMailerModule);
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    const [one, two] = await Promise.all([first, second]);
    expect(two).toBe(one);
    const mailer = two.get(LazyMailer);
    expect(await mailer.send()).toBe('sent');
    expect(await mailer.send()).toBe('sent');
    await expect(mailer.send()).rejects.toBeInstanceOf(RateLimitError);
    expect(mailer.runs).toBe(2);
  });

  it('is refused when it imports a CashewsModule.forRoot of its own', async () => {
    await expect(moduleRef.get(LazyModuleLoader).load(() => OwnCacheModule)).rejects.toBeInstanceOf(CashewsConfigError);
  });
});
