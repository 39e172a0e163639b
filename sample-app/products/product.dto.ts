/** Shapes returned by the catalogue API. Timestamps (`asOf`, `computedAt`) show how fresh a value is. */

export interface ProductDto {
  id: string;
  name: string;
  category: string;
  description: string;
}

export interface ProductPageDto {
  category: string | null;
  page: number;
  pageSize: number;
  total: number;
  items: ProductDto[];
  fetchedAt: string;
}

export interface PriceDto {
  productId: string;
  amount: number;
  currency: 'EUR';
  asOf: string;
}

export interface StockDto {
  productId: string;
  available: number;
  asOf: string;
}

export interface RatingDto {
  productId: string;
  stars: number;
  reviews: number;
  computedAt: string;
}

/** The latest reviews of a product (`GET /products/:id/reviews`). */
export interface ReviewsDto {
  productId: string;
  latest: Array<{ stars: number; text: string }>;
  asOf: string;
}

export interface ShippingDto {
  productId: string;
  region: string;
  amount: number;
  currency: string;
  days: number;
  quotedAt: string;
}

export interface TopSellerDto {
  rank: number;
  productId: string;
  name: string;
  unitsSold: number;
}

export interface TopSellersDto {
  items: TopSellerDto[];
  computedAt: string;
}

export interface CategoryDto {
  name: string;
  productCount: number;
}

export interface CategoriesDto {
  items: CategoryDto[];
  computedAt: string;
}
