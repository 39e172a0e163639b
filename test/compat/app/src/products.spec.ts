import { Test, type TestingModule } from '@nestjs/testing';
import { CacheService } from 'nestjs-cashews';
import { AppModule } from './app.module.js';
import { ProductsController } from './products.controller.js';
import { ProductsService } from './products.service.js';

describe('an app using CashewsModule.forRoot("mem://")', () => {
  let moduleRef: TestingModule;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await moduleRef.init();
  });

  afterEach(async () => {
    await moduleRef.close();
  });

  it('serves the second call of a @Cache provider method from the cache, Dates included', async () => {
    const products = moduleRef.get(ProductsService);
    const first = await products.find(7);
    const second = await products.find(7);
    expect(products.runs).toBe(1);
    expect(second.at).toBeInstanceOf(Date);
    expect(second).toEqual(first);
  });

  it('answers through the controller with the injected CacheService', async () => {
    const controller = moduleRef.get(ProductsController);
    await controller.find(3);
    expect(await controller.find(3)).toEqual({ id: 3, runs: 1, ping: 'PONG' });
    expect(moduleRef.get(CacheService)).toBeInstanceOf(CacheService);
  });
});
