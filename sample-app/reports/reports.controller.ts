import { Controller, Get } from '@nestjs/common';
import { LazyModuleLoader } from '@nestjs/core';
import { ReportsService, type CatalogueReportDto } from './reports.service.js';

/**
 * Routes of a module loaded lazily live in a module loaded at start-up (Nest registers no routes for lazy modules).
 * The first request loads ReportsModule; later ones get Nest's loaded copy at once.
 */
@Controller('reports')
export class ReportsController {
  constructor(private readonly loader: LazyModuleLoader) {}

  @Get('catalogue')
  async catalogue(): Promise<CatalogueReportDto> {
    const reports = await this.loader.load(() => import('./reports.module.js').then((m) => m.ReportsModule));
    return reports.get(ReportsService).catalogueReport();
  }
}
