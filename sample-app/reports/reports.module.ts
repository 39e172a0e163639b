import { Module } from '@nestjs/common';
import { UpstreamModule } from '../upstream/upstream.module.js';
import { ReportsService } from './reports.service.js';

/** Not imported by AppModule: ReportsController loads it at the first request that needs it. */
@Module({
  imports: [UpstreamModule],
  providers: [ReportsService],
})
export class ReportsModule {}
