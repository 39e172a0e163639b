import { Module } from '@nestjs/common';
import { ReportsController } from './reports.controller.js';

/** Imported at start-up for its routes; the reports themselves are in ReportsModule, loaded on demand. */
@Module({ controllers: [ReportsController] })
export class ReportsRoutesModule {}
