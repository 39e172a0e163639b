import { Injectable } from '@nestjs/common';
import { Cache } from '../../lib/index.js';
import { CatalogueUpstreamService } from '../upstream/catalogue-upstream.service.js';

/** A summary of the catalogue, for the back office. */
export interface CatalogueReportDto {
  products: number;
  categories: number;
  computedAt: string;
}

/**
 * Lives in a module loaded on demand with `LazyModuleLoader` (see reports.controller.ts): cashews decorates it
 * when `load()` returns, so its `@Cache` works as it would in a module imported at start-up.
 */
@Injectable()
export class ReportsService {
  constructor(private readonly upstream: CatalogueUpstreamService) {}

  @Cache({ ttl: '10m' })
  async catalogueReport(): Promise<CatalogueReportDto> {
    const products = await this.upstream.listProducts();
    return {
      products: products.length,
      categories: new Set(products.map((product) => product.category)).size,
      computedAt: new Date().toISOString(),
    };
  }
}
