import {
  Body,
  Controller,
  DefaultValuePipe,
  Get,
  Headers,
  Param,
  ParseIntPipe,
  Put,
  Query,
  StreamableFile,
} from '@nestjs/common';
import { Cache, CacheDetect, Invalidate, RateLimit, type CacheHit } from '../../lib/index.js';
import { RecentlyViewedService } from '../sessions/recently-viewed.service.js';
import type {
  PriceDto,
  ProductDto,
  ProductPageDto,
  RatingDto,
  ReviewsDto,
  ShippingDto,
  StockDto,
  TopSellersDto,
} from './product.dto.js';
import { ProductsService } from './products.service.js';

/** `GET /products/:id/detect`: the product plus where it came from. */
export interface DetectedProductDto {
  product: ProductDto;
  /** Empty when the upstream was called; one entry per cache layer that answered otherwise. */
  servedFromCache: CacheHit[];
}

@Controller('products')
export class ProductsController {
  constructor(
    private readonly products: ProductsService,
    private readonly recentlyViewed: RecentlyViewedService,
  ) {}

  /**
   * Caching on a controller handler caches the response. With no `key`, the key is the route plus the
   * sorted query string, so `?category=nuts&page=2` and `?page=2&category=nuts` share one entry while
   * every page and category gets its own.
   * It is public, so it is rate limited per client (`req.ip`): 20 requests a minute, then 429 with
   * `Retry-After`; every response carries `X-RateLimit-*` headers. The limit runs before the cache, so
   * cached answers count too.
   */
  @Get()
  @RateLimit({ limit: 20, period: '1m' })
  @Cache({ ttl: '30s' })
  list(
    @Query('category') category: string | undefined,
    @Query('page', new DefaultValuePipe(1), ParseIntPipe) page: number,
  ): Promise<ProductPageDto> {
    return this.products.list(category, Math.max(1, page));
  }

  // Declared before `:id` so that "top" is not taken for a product id.
  @Get('top')
  top(): Promise<TopSellersDto> {
    return this.products.topSellers();
  }

  /** A file download, cached as the bytes it streamed (see ProductsService.exportCsv). */
  @Get('export.csv')
  exportCsv(): Promise<StreamableFile> {
    return this.products.exportCsv();
  }

  @Get(':id')
  async findOne(@Param('id') id: string, @Headers('x-session-id') sessionId?: string): Promise<ProductDto> {
    const product = await this.products.findOne(id);
    if (sessionId) await this.recentlyViewed.record(sessionId, id);
    return product;
  }

  /** Same lookup as `GET /products/:id`, inside a detection scope that records every cache layer that answered. */
  @Get(':id/detect')
  async detect(@Param('id') id: string): Promise<DetectedProductDto> {
    const { result, hits } = await CacheDetect.run(() => this.products.findOne(id));
    return { product: result, servedFromCache: hits };
  }

  /**
   * Updates a product. After it succeeded: the product's tagged entries are dropped (the service's
   * `@Invalidate`), and so are the cached list pages, by pattern (default controller keys start with
   * `ProductsController:list:`). The next GET is fresh and carries no X-From-Cache header.
   */
  @Put(':id')
  @Invalidate('ProductsController:list:*')
  update(@Param('id') id: string, @Body() body: { name?: unknown; description?: unknown }): Promise<ProductDto> {
    return this.products.update(id, body ?? {});
  }

  @Get(':id/price')
  price(@Param('id') id: string): Promise<PriceDto> {
    return this.products.price(id);
  }

  @Get(':id/stock')
  stock(@Param('id') id: string): Promise<StockDto> {
    return this.products.stock(id);
  }

  /** `true` or `false`, learned by a Bloom filter (see ProductsService.exists). */
  @Get(':id/exists')
  exists(@Param('id') id: string): Promise<boolean> {
    return this.products.exists(id);
  }

  /** `X-Region: eu | us | apac` picks the region of the quote (app.module.ts puts it in the key context). */
  @Get(':id/shipping')
  shipping(@Param('id') id: string): Promise<ShippingDto> {
    return this.products.shipping(id);
  }

  @Get(':id/reviews')
  reviews(@Param('id') id: string): Promise<ReviewsDto> {
    return this.products.reviews(id);
  }

  @Get(':id/rating')
  rating(@Param('id') id: string): Promise<RatingDto> {
    return this.products.rating(id);
  }
}
