import { Controller, Get } from '@nestjs/common';
import type { CategoriesDto } from '../products/product.dto.js';
import { CategoriesService } from './categories.service.js';

@Controller('categories')
export class CategoriesController {
  constructor(private readonly categories: CategoriesService) {}

  @Get()
  list(): Promise<CategoriesDto> {
    return this.categories.categories();
  }
}
