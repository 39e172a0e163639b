import { Controller, Get, Param, ParseIntPipe } from '@nestjs/common';
import { CacheService } from 'nestjs-cashews';
import { ProductsService } from './products.service.js';

@Controller('products')
export class ProductsController {
  constructor(
    private readonly products: ProductsService,
    private readonly cache: CacheService,
  ) {}

  @Get(':id')
  async find(@Param('id', ParseIntPipe) id: number): Promise<{ id: number; runs: number; ping: string }> {
    const product = await this.products.find(id);
    return { id: product.id, runs: this.products.runs, ping: await this.cache.ping() };
  }
}
