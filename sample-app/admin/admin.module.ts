import { Module } from '@nestjs/common';
import { UpstreamModule } from '../upstream/upstream.module.js';
import { AdminController } from './admin.controller.js';
import { ReindexService } from './reindex.service.js';

// CacheService needs no import: CashewsModule.forRoot registers it globally.
@Module({
  imports: [UpstreamModule],
  controllers: [AdminController],
  providers: [ReindexService],
})
export class AdminModule {}
