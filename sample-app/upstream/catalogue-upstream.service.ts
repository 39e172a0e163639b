import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import type {
  PriceDto,
  ProductDto,
  RatingDto,
  ReviewsDto,
  ShippingDto,
  StockDto,
  TopSellersDto,
} from '../products/product.dto.js';
import { BASE_PRICES, PRODUCTS } from './catalogue.data.js';
import { ProductNotFoundError, UpstreamError } from './upstream.errors.js';

/** What `GET /admin/upstream` reports, so a caller can see how often the cache let requests through. */
export interface UpstreamStatus {
  healthy: boolean;
  failureRate: number;
  calls: number;
  failures: number;
}

/**
 * An in-process stand-in for a remote catalogue service: every call takes 200–400 ms and fails with
 * `UpstreamError` at `UPSTREAM_FAILURE_RATE` (default 0.2), or always while marked unhealthy. That is
 * exactly the kind of dependency the cache decorators are for, and it needs nothing to be installed.
 */
@Injectable()
export class CatalogueUpstreamService {
  private readonly logger = new Logger(CatalogueUpstreamService.name);
  private readonly failureRate = parseFailureRate(process.env.UPSTREAM_FAILURE_RATE);
  private healthy = true;
  private calls = 0;
  private failures = 0;

  /** Simulates an outage (`false`) or a recovery (`true`); exposed as `POST /admin/upstream`. */
  setHealthy(healthy: boolean): void {
    this.healthy = healthy;
    this.logger.warn(healthy ? 'Upstream is healthy again' : 'Upstream is DOWN: every call now fails');
  }

  status(): UpstreamStatus {
    return { healthy: this.healthy, failureRate: this.failureRate, calls: this.calls, failures: this.failures };
  }

  async listProducts(): Promise<ProductDto[]> {
    await this.roundTrip('listProducts');
    return PRODUCTS.map((product) => ({ ...product }));
  }

  async fetchProduct(id: string): Promise<ProductDto> {
    await this.roundTrip(`fetchProduct(${id})`);
    return { ...this.product(id) };
  }

  /** Renames or re-describes a product (`PUT /products/:id`). */
  async updateProduct(id: string, patch: { name?: unknown; description?: unknown }): Promise<ProductDto> {
    await this.roundTrip(`updateProduct(${id})`);
    const product = this.product(id);
    if (typeof patch.name === 'string' && patch.name.trim()) product.name = patch.name.trim().slice(0, 100);
    if (typeof patch.description === 'string') product.description = patch.description.slice(0, 500);
    return { ...product };
  }

  async fetchPrice(id: string): Promise<PriceDto> {
    await this.roundTrip(`fetchPrice(${id})`);
    this.product(id);
    // Jitter makes a freshly fetched price distinguishable from a cached one.
    const amount = Math.round(BASE_PRICES[id] * (0.95 + Math.random() * 0.1) * 100) / 100;
    return { productId: id, amount, currency: 'EUR', asOf: new Date().toISOString() };
  }

  async fetchStock(id: string): Promise<StockDto> {
    await this.roundTrip(`fetchStock(${id})`);
    this.product(id);
    return { productId: id, available: Math.floor(Math.random() * 200), asOf: new Date().toISOString() };
  }

  /**
   * The latest reviews: a new one comes in about once a minute per product (the list is the same between two),
   * which is what `@Adaptive` can find out by itself.
   */
  async fetchReviews(id: string): Promise<ReviewsDto> {
    await this.roundTrip(`fetchReviews(${id})`);
    this.product(id);
    const minute = Math.floor(Date.now() / 60_000);
    const latest = [0, 1, 2].map((back) => ({
      stars: 1 + ((minute - back + id.length) % 5),
      text: `Review #${minute - back} of product ${id}`,
    }));
    return { productId: id, latest, asOf: new Date(minute * 60_000).toISOString() };
  }

  /** The review summary: an aggregation the upstream takes its time over (200–400 ms, like every call here). */
  async fetchRating(id: string): Promise<RatingDto> {
    await this.roundTrip(`fetchRating(${id})`);
    this.product(id);
    const stars = Math.round((3 + Math.random() * 2) * 10) / 10;
    return {
      productId: id,
      stars,
      reviews: 10 + Math.floor(Math.random() * 500),
      computedAt: new Date().toISOString(),
    };
  }

  /** A shipping quote to a region: the same product costs a different amount to ship to each. */
  async fetchShipping(id: string, region: string): Promise<ShippingDto> {
    await this.roundTrip(`fetchShipping(${id}, ${region})`);
    this.product(id);
    const base = { eu: 4.9, us: 9.9, apac: 14.9 }[region] ?? 19.9;
    const days = { eu: 2, us: 5, apac: 7 }[region] ?? 10;
    return { productId: id, region, amount: base, currency: 'EUR', days, quotedAt: new Date().toISOString() };
  }

  async fetchTopSellers(): Promise<TopSellersDto> {
    await this.roundTrip('fetchTopSellers');
    const items = PRODUCTS.map((product) => ({
      productId: product.id,
      name: product.name,
      unitsSold: Math.floor(Math.random() * 1000),
    }))
      .sort((a, b) => b.unitsSold - a.unitsSold)
      .slice(0, 5)
      .map((row, i) => ({ rank: i + 1, ...row }));
    return { items, computedAt: new Date().toISOString() };
  }

  private product(id: string): ProductDto {
    const product = PRODUCTS.find((candidate) => candidate.id === id);
    if (!product) throw new ProductNotFoundError(id);
    return product;
  }

  /** The network hop: latency first, then a possible failure, like a real timeout or 503. */
  private async roundTrip(operation: string): Promise<void> {
    this.calls += 1;
    await sleep(200 + Math.random() * 200);
    if (!this.healthy || Math.random() < this.failureRate) {
      this.failures += 1;
      this.logger.debug(`${operation} failed`);
      throw new UpstreamError(
        `Catalogue upstream failed on ${operation}${this.healthy ? ' (random failure)' : ' (down)'}`,
      );
    }
  }
}

function parseFailureRate(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0.2;
  const rate = Number(raw);
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new Error(`UPSTREAM_FAILURE_RATE must be a number between 0 and 1 (got "${raw}").`);
  }
  return rate;
}
