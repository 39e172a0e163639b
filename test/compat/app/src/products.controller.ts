import { Controller, Get, Param, ParseIntPipe } from '@nestjs/common';
import { Cache, CacheService } from 'nestjs-cashews';
import { ProductsService } from './products.service.js';

@Controller('products')
export class ProductsController {
  /** How many times `cached` really ran (a decorated handler: a direct route of the module). */
  private handlerRuns = 0;

  constructor(
    private readonly products: ProductsService,
    private readonly cache: CacheService,
  ) {}

  @Get(':id')
  async find(@Param('id', ParseIntPipe) id: number): Promise<{ id: number; runs: number; ping: string }> {
    const product = await this.products.find(id);
    return { id: product.id, runs: this.products.runs, ping: await this.cache.ping() };
  }

  @Get(':id/cached')
  @Cache({ ttl: '1m' })
  cached(@Param('id', ParseIntPipe) id: number): { id: number; handlerRuns: number } {
    return { id, handlerRuns: ++this.handlerRuns };
  }
}
