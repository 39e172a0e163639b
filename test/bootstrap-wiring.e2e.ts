/**
 * Wiring mistakes are loud, never a silent no-op: decorators without CashewsModule, on a class Nest did not
 * create, or on a request-scoped provider warn (once) naming Class.method and the fix; a synchronous provider
 * method under a caching decorator is refused at bootstrap (or logged at its first call when nothing declares its
 * return type); two forRoot of one name are refused. Everything here runs on mem://.
 */
import { jest } from '@jest/globals';
import {
  Controller,
  Get,
  Injectable,
  Logger,
  Module,
  Param,
  Scope,
  type INestApplication,
  type INestApplicationContext,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { logged } from './support/logged.js';
import { Cache, CacheService, CashewsConfigError, CashewsModule, InjectCache, RateLimit } from '../lib/index.js';

// One describe around the file: its hooks stay its own inside a group file (see jest.config.js).
describe('bootstrap wiring', () => {
  const open: INestApplicationContext[] = [];
  afterEach(async () => {
    while (open.length) await open.pop()!.close();
  });

  async function boot(metadata: Parameters<typeof Test.createTestingModule>[0]): Promise<INestApplicationContext> {
    const moduleRef = await Test.createTestingModule(metadata).compile();
    open.push(moduleRef);
    await moduleRef.init();
    return moduleRef;
  }

  async function bootFailure(metadata: Parameters<typeof Test.createTestingModule>[0]): Promise<Error> {
    try {
      await boot(metadata);
    } catch (error) {
      return error as Error;
    }
    throw new Error('bootstrap succeeded but was expected to fail');
  }

  // Each scenario has its own classes: a guard warns once per method and process.

  @Injectable()
  class WithoutModuleService {
    runs = 0;
    @Cache({ ttl: '1m', key: 'no-module:{id}' })
    async find(id: number): Promise<number> {
      this.runs++;
      return id;
    }
  }

  class NotAProvider {
    runs = 0;
    @Cache({ ttl: '1m', key: 'new:{id}' })
    async find(id: number): Promise<number> {
      this.runs++;
      return id;
    }
  }

  @Injectable({ scope: Scope.REQUEST })
  class RequestScoped {
    @RateLimit({ limit: 1, period: '1m', key: 'request-scoped' })
    async hit(): Promise<string> {
      return 'ok';
    }
  }

  @Injectable()
  class AppliedService {
    runs = 0;
    @Cache({ ttl: '1m', key: 'applied:{id}' })
    async find(id: number): Promise<number> {
      this.runs++;
      return id;
    }
  }

  @Controller('wired')
  class WiredController {
    runs = 0;
    @Get(':id')
    @Cache({ ttl: '1m', key: 'wired:{id}' })
    get(@Param('id') id: string): { id: string } {
      this.runs++;
      return { id };
    }
  }

  describe('decorators that would silently do nothing', () => {
    it('without CashewsModule: the first call warns, naming Class.method, the decorator and the fix', async () => {
      const moduleRef = await boot({ providers: [WithoutModuleService] });
      const service = moduleRef.get(WithoutModuleService);
      const lines = await logged(async () => {
        expect(await service.find(1)).toBe(1);
        expect(await service.find(1)).toBe(1);
      });
      expect(service.runs).toBe(2); // not cached: and said so
      expect(lines).toHaveLength(1); // once, not per call
      expect(lines[0]).toMatch(/WithoutModuleService\.find/);
      expect(lines[0]).toMatch(/@Cache/);
      expect(lines[0]).toMatch(/import CashewsModule\.forRoot\(url\)/);
    });

    // The unit-test set-up `nest new` generates (compile(), get(), no init()) ran decorated methods uncached, and the
    // only line said "CashewsModule is not imported", at warn level, which Nest's testing logger does not print.
    it('compiled but not initialized: the first call says so at error level, with the fix', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [CashewsModule.forRoot('mem://')],
        providers: [AppliedService],
      }).compile();
      open.push(moduleRef);
      const service = moduleRef.get(AppliedService);
      const errors: string[] = [];
      const error = jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => {
        errors.push(String(message));
      });
      try {
        await service.find(1);
        await service.find(1);
      } finally {
        error.mockRestore();
      }
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/AppliedService\.find/);
      expect(errors[0]).toMatch(/compiled but not initialized.*moduleRef\.init\(\)/);
      await moduleRef.init();
    });

    // Only the transient provider's template instance was wrapped: every consumer's own instance ran the method
    // undecorated, and the warning blamed the registration.
    it('on a transient provider: each injected instance applies its decorators', async () => {
      let runs = 0;
      @Injectable({ scope: Scope.TRANSIENT })
      class TransientPrices {
        @Cache({ ttl: '1m', key: 'transient:{id}' })
        async price(id: number): Promise<number> {
          runs++;
          return id * 10;
        }
      }
      @Injectable()
      class Checkout {
        constructor(readonly prices: TransientPrices) {}
      }
      Reflect.defineMetadata('design:paramtypes', [TransientPrices], Checkout);
      const lines = await logged(async () => {
        const moduleRef = await boot({
          imports: [CashewsModule.forRoot('mem://')],
          providers: [TransientPrices, Checkout],
        });
        const checkout = moduleRef.get(Checkout);
        expect(await checkout.prices.price(1)).toBe(10);
        expect(await checkout.prices.price(1)).toBe(10);
      });
      expect(runs).toBe(1);
      expect(lines).toEqual([]);
    });

    it('on an instance created with `new`: warns naming the class and the fix', async () => {
      await boot({ imports: [CashewsModule.forRoot('mem://')], providers: [AppliedService] });
      const lines = await logged(async () => {
        const manual = new NotAProvider();
        await manual.find(1);
        await manual.find(1);
        expect(manual.runs).toBe(2);
      });
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/NotAProvider\.find/);
      expect(lines[0]).toMatch(/register the class as a provider/);
    });

    it('on a request-scoped provider: warns at bootstrap and at the first call', async () => {
      const bootLines = await logged(async () => {
        await boot({ imports: [CashewsModule.forRoot('mem://')], providers: [RequestScoped] });
      });
      expect(bootLines.some((line) => /RequestScoped\.hit/.test(line) && /request-scoped/.test(line))).toBe(true);
      const moduleRef = open[open.length - 1];
      const callLines = await logged(async () => {
        const instance = await moduleRef.resolve(RequestScoped);
        await instance.hit();
        await instance.hit(); // over the limit if it were applied: it is not, and that was said
      });
      expect(callLines).toHaveLength(1);
      expect(callLines[0]).toMatch(/RequestScoped\.hit/);
      expect(callLines[0]).toMatch(/@RateLimit/);
      expect(callLines[0]).toMatch(/singleton provider/);
    });

    it('control: providers and controllers wired by Nest apply their decorators and warn about nothing', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [CashewsModule.forRoot('mem://')],
        controllers: [WiredController],
        providers: [AppliedService],
      }).compile();
      const app: INestApplication = moduleRef.createNestApplication({ logger: false });
      open.push(app);
      await app.init();
      const lines = await logged(async () => {
        const service = app.get(AppliedService);
        expect(await service.find(1)).toBe(1);
        expect(await service.find(1)).toBe(1);
        expect(service.runs).toBe(1);
        await request(app.getHttpServer()).get('/wired/7').expect(200, { id: '7' });
        await request(app.getHttpServer()).get('/wired/7').expect(200, { id: '7' });
        expect(app.get(WiredController).runs).toBe(1);
      });
      expect(lines).toEqual([]);
    });
  });

  describe('synchronous provider methods under a caching decorator', () => {
    it('a method declared to return a plain value is refused at bootstrap, naming Class.method and the fix', async () => {
      @Injectable()
      class Calculator {
        @Cache({ ttl: '1m' })
        sum(a: number, b: number): number {
          return a + b;
        }
      }
      const error = await bootFailure({ imports: [CashewsModule.forRoot('mem://')], providers: [Calculator] });
      expect(error).toBeInstanceOf(CashewsConfigError);
      expect(error.message).toMatch(/Calculator\.sum/);
      expect(error.message).toMatch(/declared to return Number/);
      expect(error.message).toMatch(/make it async/);
      expect(error.message).toMatch(/Promise<T>/);
    });

    it('a method without a return type that returns a plain value is logged as an error at its first call', async () => {
      @Injectable()
      class Untyped {
        @Cache({ ttl: '1m' })
        sum(a: number, b: number) {
          return a + b;
        }
      }
      const moduleRef = await boot({ imports: [CashewsModule.forRoot('mem://')], providers: [Untyped] });
      const service = moduleRef.get(Untyped);
      const lines = await logged(async () => {
        await expect(service.sum(1, 2)).resolves.toBe(3);
        await expect(service.sum(2, 2)).resolves.toBe(4);
      });
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/Untyped\.sum returned a plain value/);
      expect(lines[0]).toMatch(/make it async/);
    });

    it('accepted: async methods, and non-async methods declared to return a Promise', async () => {
      @Injectable()
      class Fine {
        @Cache({ ttl: '1m' })
        async a(x: number): Promise<number> {
          return x;
        }
        @Cache({ ttl: '1m' })
        b(x: number): Promise<number> {
          return Promise.resolve(x);
        }
      }
      const lines = await logged(async () => {
        const moduleRef = await boot({ imports: [CashewsModule.forRoot('mem://')], providers: [Fine] });
        await expect(moduleRef.get(Fine).a(1)).resolves.toBe(1);
        await expect(moduleRef.get(Fine).b(2)).resolves.toBe(2);
      });
      expect(lines).toEqual([]);
    });
  });

  describe('two forRoot of one name', () => {
    it('two unnamed forRoot are refused, naming the "name" option', async () => {
      @Module({ imports: [CashewsModule.forRoot('mem://?size=10')] })
      class FeatureModule {}
      const error = await bootFailure({ imports: [CashewsModule.forRoot('mem://'), FeatureModule] });
      expect(error).toBeInstanceOf(CashewsConfigError);
      expect(error.message).toMatch(/2 times without a name/);
      expect(error.message).toMatch(/"name" option/);
      expect(error.message).toMatch(/InjectCache/);
    });

    it('two forRoot with the same name are refused too', async () => {
      const error = await bootFailure({
        imports: [
          CashewsModule.forRoot('mem://', { name: 'sessions' }),
          CashewsModule.forRootAsync({ name: 'sessions', useFactory: () => ({ url: 'mem://' }) }),
        ],
      });
      expect(error).toBeInstanceOf(CashewsConfigError);
      expect(error.message).toMatch(/with name: "sessions"/);
    });

    it('control: one default and one named instance boot side by side', async () => {
      @Injectable()
      class Both {
        constructor(
          readonly main: CacheService,
          @InjectCache('other') readonly other: CacheService,
        ) {}
      }
      const moduleRef = await boot({
        imports: [CashewsModule.forRoot('mem://'), CashewsModule.forRoot('mem://', { name: 'other' })],
        providers: [Both],
      });
      const both = moduleRef.get(Both);
      expect(both.main).not.toBe(both.other);
    });
  });
});
