import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { CacheResolver } from './cache-resolver.js';
import { CashewsExplorer } from './explorer/cashews.explorer.js';
import { CashewsInterceptor } from './interceptors/cashews.interceptor.js';

/**
 * The decorator machinery, registered once however many cache instances `forRoot` creates: every
 * `forRoot` imports this static module, and Nest instantiates a static module only once.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [CacheResolver, CashewsExplorer, { provide: APP_INTERCEPTOR, useClass: CashewsInterceptor }],
})
export class CashewsCoreModule {}
