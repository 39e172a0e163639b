/**
 * Default keys name the class of the instance a decorated provider method runs on, not the class that declares it:
 * a generic `BaseRepo.findOne(id)` under `@Cache` inherited by two repositories answered the second one with the
 * first one's entry (same `BaseRepo:findOne:…:1`). Two different classes of one name are refused at bootstrap, as
 * their default keys cannot tell them apart. mem:// is enough: what is checked is the key, not the backend.
 * Every class name and key template here starts with "Ck".
 */
import { jest } from '@jest/globals';
import { Inject, Injectable, Logger, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Cache, CashewsConfigError, CashewsModule, Invalidate, RateLimit } from '../../lib/index.js';
import { closeApps, keysOf, protectionKeysOf, startApp } from '../support/strategy-fixtures.js';

abstract class CkBaseRepo {
  abstract readonly table: string;
  runs = 0;

  @Cache({ ttl: '1m' })
  async findOne(id: number): Promise<string> {
    this.runs++;
    return `${this.table}#${id}`;
  }

  @Cache({ ttl: '1m', key: 'CkShared:{id}' })
  async byTemplate(id: number): Promise<string> {
    this.runs++;
    return `${this.table}#${id}`;
  }

  @RateLimit({ limit: 1, period: '1m' })
  async limited(): Promise<string> {
    return this.table;
  }
}

@Injectable()
class CkUsersRepo extends CkBaseRepo {
  readonly table = 'users';
}

@Injectable()
class CkOrdersRepo extends CkBaseRepo {
  readonly table = 'orders';

  @Invalidate([CkOrdersRepo, 'findOne'])
  async touch(id: number): Promise<number> {
    return id;
  }
}

@Injectable()
class CkPlain {
  @Cache({ ttl: '1m' })
  async find(id: number): Promise<number> {
    return id;
  }
}

describe('default keys name the instance class (mem://)', () => {
  afterEach(() => closeApps());

  it('two providers inheriting one decorated method never share its entries', async () => {
    const { app, cache } = await startApp('mem://', [CkUsersRepo, CkOrdersRepo]);
    const users = app.get(CkUsersRepo);
    const orders = app.get(CkOrdersRepo);
    expect(await users.findOne(1)).toBe('users#1');
    expect(await orders.findOne(1)).toBe('orders#1');
    expect(await orders.findOne(1)).toBe('orders#1');
    expect([users.runs, orders.runs]).toEqual([1, 1]);
    const keys = await keysOf(cache, 'Ck*');
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^CkOrdersRepo:findOne:v[0-9a-f]+:1$/);
    expect(keys[1]).toMatch(/^CkUsersRepo:findOne:v[0-9a-f]+:1$/);
  });

  it('names the instance class in stats and in the per-method default key of a rate limit', async () => {
    const { app, cache } = await startApp('mem://', [CkUsersRepo, CkOrdersRepo]);
    await app.get(CkUsersRepo).findOne(1);
    await app.get(CkOrdersRepo).findOne(1);
    expect(await app.get(CkUsersRepo).limited()).toBe('users');
    // Each class has its own bucket: the users' call does not use up the orders' limit.
    expect(await app.get(CkOrdersRepo).limited()).toBe('orders');
    expect((await protectionKeysOf(cache, '*Ck*')).join(' ')).toMatch(/CkOrdersRepo:limited.*CkUsersRepo:limited/);
    const methods = cache.stats().methods.map((entry) => `${entry.method}/${entry.strategy}`);
    expect(methods).toEqual(expect.arrayContaining(['CkUsersRepo.findOne/cache', 'CkOrdersRepo.findOne/cache']));
    expect(methods.some((method) => method.startsWith('CkBaseRepo.'))).toBe(false);
  });

  it('@Invalidate([Subclass, method]) deletes the subclass entries', async () => {
    const { app, cache } = await startApp('mem://', [CkUsersRepo, CkOrdersRepo]);
    const orders = app.get(CkOrdersRepo);
    await orders.findOne(7);
    await app.get(CkUsersRepo).findOne(7);
    await orders.touch(7);
    const keys = await keysOf(cache, 'Ck*');
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^CkUsersRepo:findOne:/);
    expect(await orders.findOne(7)).toBe('orders#7');
    expect(orders.runs).toBe(2);
  });

  // A method reference names the declaring class's keys, which the subclasses no longer write: such an @Invalidate
  // deleted nothing they cached, unsaid.
  it('@Invalidate(Base.prototype.method) warns at bootstrap when providers inherit the method', async () => {
    @Injectable()
    class CkRefInvalidator {
      @Invalidate(CkBaseRepo.prototype.findOne)
      async purge(id: number): Promise<number> {
        return id;
      }
    }
    const warnings: string[] = [];
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
      warnings.push(String(message));
    });
    try {
      await startApp('mem://', [CkUsersRepo, CkOrdersRepo, CkRefInvalidator]);
    } finally {
      warn.mockRestore();
    }
    const about = warnings.filter((line) => line.includes('CkRefInvalidator.purge'));
    expect(about).toHaveLength(1);
    expect(about[0]).toMatch(/CkUsersRepo, CkOrdersRepo inherit it|CkOrdersRepo, CkUsersRepo inherit it/);
    expect(about[0]).toMatch(/@Invalidate\(\[CkUsersRepo, 'findOne'\]\)/);
  });

  it('an explicit key template stays as written: subclasses sharing it share its entries', async () => {
    const { app, cache } = await startApp('mem://', [CkUsersRepo, CkOrdersRepo]);
    expect(await app.get(CkUsersRepo).byTemplate(3)).toBe('users#3');
    expect(await app.get(CkOrdersRepo).byTemplate(3)).toBe('users#3');
    expect(await keysOf(cache, 'Ck*')).toEqual(['CkShared:3']);
  });

  it('keeps the key of a method declared on the instance class', async () => {
    const { app, cache } = await startApp('mem://', [CkPlain]);
    await app.get(CkPlain).find(5);
    expect(await keysOf(cache, 'Ck*')).toEqual([expect.stringMatching(/^CkPlain:find:v[0-9a-f]+:5$/)]);
  });

  it('two instances of one class share entries (the instance is never in a key)', async () => {
    class CkClient {
      constructor(readonly base: string) {}
      @Cache({ ttl: '1m' })
      async get(path: string): Promise<string> {
        return this.base + path;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [CashewsModule.forRoot('mem://')],
      providers: [
        { provide: 'CK_A', useFactory: () => new CkClient('a:') },
        { provide: 'CK_B', useFactory: () => new CkClient('b:') },
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      expect(await app.get<CkClient>('CK_A').get('/x')).toBe('a:/x');
      expect(await app.get<CkClient>('CK_B').get('/x')).toBe('a:/x');
    } finally {
      await app.close();
    }
  });
});

/** Two feature modules, each with its own class called `CkStats`, as admin/stats.service.ts and shop/stats.service.ts. */
function sameNameModules(options: { prefix?: string; key?: string } = {}) {
  const admin = (() => {
    @Injectable()
    class CkStats {
      constructor(@Inject('CK_ADMIN_DB') private readonly db: { count(): number }) {}
      @Cache({ ttl: '1m' })
      async total(): Promise<number> {
        return this.db.count();
      }
    }
    return CkStats;
  })();
  const shop = (() => {
    @Injectable()
    class CkStats {
      constructor(@Inject('CK_SHOP_DB') private readonly db: { count(): number }) {}
      @Cache({ ttl: '1m', ...options })
      async total(): Promise<number> {
        return this.db.count();
      }
    }
    return CkStats;
  })();
  @Module({ providers: [admin, { provide: 'CK_ADMIN_DB', useValue: { count: () => 3 } }], exports: [admin] })
  class CkAdminModule {}
  @Module({ providers: [shop, { provide: 'CK_SHOP_DB', useValue: { count: () => 12345 } }], exports: [shop] })
  class CkShopModule {}
  return { admin, shop, imports: [CkAdminModule, CkShopModule] };
}

describe('two classes of one name (mem://)', () => {
  async function start(imports: Array<new () => unknown>) {
    const moduleRef = await Test.createTestingModule({
      imports: [CashewsModule.forRoot('mem://'), ...imports],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      await app.init();
    } catch (error) {
      await app.close();
      throw error;
    }
    return app;
  }

  it('are refused at bootstrap when their default keys would be the same', async () => {
    const { imports } = sameNameModules();
    const error = (await start(imports).then(
      async (app) => app.close(),
      (caught: unknown) => caught,
    )) as Error;
    expect(error).toBeInstanceOf(CashewsConfigError);
    expect(error.message).toContain('CkStats.total');
    expect(error.message).toContain('CkAdminModule');
    expect(error.message).toContain('CkShopModule');
    expect(error.message).toMatch(/prefix/);
  });

  it.each([
    ['a prefix', { prefix: 'shop' }],
    ['an explicit key', { key: 'CkShopTotal' }],
  ])('are accepted when one of them has %s', async (_what, options) => {
    const { admin, shop, imports } = sameNameModules(options);
    const app = await start(imports);
    try {
      expect(await app.get(admin).total()).toBe(3);
      expect(await app.get(shop).total()).toBe(12345);
    } finally {
      await app.close();
    }
  });
});
