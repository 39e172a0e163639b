import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CashewsModule } from '../lib/index.js';
import { AdminModule } from './admin/admin.module.js';
import { CategoriesModule } from './categories/categories.module.js';
import { ErrorFilter } from './common/error.filter.js';
import { ProductsModule } from './products/products.module.js';
import { SessionsModule } from './sessions/sessions.module.js';

@Module({
  imports: [
    // One URL picks the backend: in-process memory by default, Redis when REDIS_URL is set. The decorators
    // and the code using CacheService are identical either way.
    // detectHeaders: every response served (partly) from cache says so in X-From-Cache* headers; cacheControl
    // honours the request's Cache-Control (no-cache, no-store, max-age) and sends Age / Cache-Control back.
    CashewsModule.forRoot(process.env.REDIS_URL ?? 'mem://', { detectHeaders: true, cacheControl: true }),
    // A second, small instance for per-visitor data, injected with @InjectCache('sessions').
    CashewsModule.forRoot('mem://?size=1000', { name: 'sessions' }),
    ProductsModule,
    CategoriesModule,
    SessionsModule,
    AdminModule,
  ],
  providers: [{ provide: APP_FILTER, useClass: ErrorFilter }],
})
export class AppModule {}
