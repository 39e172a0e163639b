import { Injectable } from '@nestjs/common';
import { Early } from '../../lib/index.js';
import type { CategoriesDto } from '../products/product.dto.js';
import { CatalogueUpstreamService } from '../upstream/catalogue-upstream.service.js';

@Injectable()
export class CategoriesService {
  constructor(private readonly upstream: CatalogueUpstreamService) {}

  /**
   * The category menu is on every page, so nobody should ever wait for it. After 90 s one caller refreshes
   * it in the background while everyone keeps getting the current menu; it only expires (2 min) if no
   * one asked for it in the meantime.
   */
  @Early({ ttl: '2m', earlyTtl: '90s' })
  async categories(): Promise<CategoriesDto> {
    const products = await this.upstream.listProducts();
    const counts = new Map<string, number>();
    for (const product of products) counts.set(product.category, (counts.get(product.category) ?? 0) + 1);
    return {
      items: [...counts].map(([name, productCount]) => ({ name, productCount })),
      computedAt: new Date().toISOString(),
    };
  }
}
