import { Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { CashewsModule } from '../lib/index.js';
import { AdminModule } from './admin/admin.module.js';
import { CategoriesModule } from './categories/categories.module.js';
import { CacheHeaderInterceptor } from './common/cache-header.interceptor.js';
import { ErrorFilter } from './common/error.filter.js';
import { ProductsModule } from './products/products.module.js';
import { SessionsModule } from './sessions/sessions.module.js';

@Module({
  imports: [
    // One URL picks the backend: in-process memory by default, Redis when REDIS_URL is set. The decorators
    // and the code using CacheService are identical either way.
    CashewsModule.forRoot(process.env.REDIS_URL ?? 'mem://'),
    // A second, small instance for per-visitor data, injected with @InjectCache('sessions').
    CashewsModule.forRoot('mem://?size=1000', { name: 'sessions' }),
    ProductsModule,
    CategoriesModule,
    SessionsModule,
    AdminModule,
  ],
  providers: [
    { provide: APP_FILTER, useClass: ErrorFilter },
    // The root module's enhancers are registered before those of imported modules, so this interceptor
    // wraps the library's one and also sees controller-level @Cache hits.
    { provide: APP_INTERCEPTOR, useClass: CacheHeaderInterceptor },
  ],
})
export class AppModule {}
