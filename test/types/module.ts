/** Type tests of CashewsModule.forRoot / forRootAsync options (see test/types/decorators.ts for how they run). */
import { CashewsModule, type CashewsModuleOptions } from '../../lib/index.js';

class CacheConfig {
  create(): CashewsModuleOptions {
    return { url: 'mem://' };
  }
}

export const modules = [
  CashewsModule.forRoot('mem://', { name: 'sessions', isGlobal: false, ttl: '5m', detectHeaders: true }),
  CashewsModule.forRoot({ url: 'mem://', name: 'sessions', cacheManagerCompat: true }),
  // Module settings go beside the factory...
  CashewsModule.forRootAsync({
    name: 'sessions',
    isGlobal: false,
    globalInterceptors: true,
    useFactory: () => ({ url: 'mem://', ttl: '5m', detectHeaders: true }),
  }),
  CashewsModule.forRootAsync({ useFactory: async () => ({ url: 'mem://' }) }),
  CashewsModule.forRootAsync({ useClass: CacheConfig }),
  // ...never in what it returns: they must be known before it runs.
  // @ts-expect-error name goes beside useFactory
  CashewsModule.forRootAsync({ useFactory: () => ({ url: 'mem://', name: 'sessions' }) }),
  // @ts-expect-error isGlobal goes beside useFactory
  CashewsModule.forRootAsync({ useFactory: () => ({ url: 'mem://', isGlobal: false }) }),
  // @ts-expect-error globalInterceptors goes beside useFactory
  CashewsModule.forRootAsync({ useFactory: async () => ({ url: 'mem://', globalInterceptors: true }) }),
  // @ts-expect-error cacheManagerCompat goes beside useFactory
  CashewsModule.forRootAsync({ useFactory: () => ({ url: 'mem://', cacheManagerCompat: true }) }),
];
