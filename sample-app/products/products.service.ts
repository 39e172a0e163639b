import { Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { StreamableFile } from '@nestjs/common';
import {
  Adaptive,
  Bloom,
  Cache,
  CircuitBreaker,
  CircuitOpenError,
  Failover,
  HitCache,
  Invalidate,
  keyContext,
  Soft,
} from '../../lib/index.js';
import { CatalogueUpstreamService } from '../upstream/catalogue-upstream.service.js';
import { ProductNotFoundError, UpstreamError } from '../upstream/upstream.errors.js';
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

const PAGE_SIZE = 5;

/**
 * Catalogue reads. Each method shows one caching strategy on a provider method (the module wraps them at
 * bootstrap), so the same behaviour applies whoever calls them: a controller, a job, another service.
 */
@Injectable()
export class ProductsService {
  constructor(private readonly upstream: CatalogueUpstreamService) {}

  /** Not cached here: `GET /products` caches the whole HTTP response in the controller instead. */
  async list(category: string | undefined, page: number): Promise<ProductPageDto> {
    const all = await this.upstream.listProducts();
    const matching = category ? all.filter((product) => product.category === category) : all;
    return {
      category: category ?? null,
      page,
      pageSize: PAGE_SIZE,
      total: matching.length,
      items: matching.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE),
      fetchedAt: new Date().toISOString(),
    };
  }

  /**
   * Product pages are hot and rarely change: cache them 5 minutes. `lock: true` means that when the entry
   * expires under load, one caller (across every process sharing Redis) reloads it while the others wait
   * for the stored value, instead of all of them hitting the upstream at once.
   * The explicit key lets `DELETE /admin/cache/products` drop them all with `product:*`.
   * An unknown id is remembered too (`cacheErrors`), for 30 s: a client or a crawler asking again and again for
   * a product that does not exist gets the stored 404 without a call to the upstream.
   */
  @Cache({
    ttl: '5m',
    key: 'product:{id}',
    lock: true,
    tags: ['product:{id}'],
    cacheErrors: [ProductNotFoundError],
    errorTtl: '30s',
  })
  findOne(id: string): Promise<ProductDto> {
    return this.upstream.fetchProduct(id);
  }

  /**
   * Writes go to the upstream; once the write succeeded, `@Invalidate` drops everything tagged with the
   * product (its `findOne` entry here) through the tag index, without scanning the keyspace.
   */
  @Invalidate({ tags: ['product:{id}'] })
  update(id: string, patch: { name?: unknown; description?: unknown }): Promise<ProductDto> {
    return this.upstream.updateProduct(id, patch);
  }

  /**
   * Prices must be fresh (10 s), but a stale price beats an error page: when the upstream fails after
   * the 10 s entry expired, `@Failover` answers the last price it saw (its own copy, kept 1 h under
   * `last-price:{id}`). Only `UpstreamError` is absorbed; an unknown product still answers 404.
   * Under the cache, a circuit breaker guards the upstream itself: when half of at least 5 calls in a minute
   * failed, the price service is left alone for 20 s (calls fail fast with `CircuitOpenError`, which
   * Failover also absorbs), then one trial call decides whether to close the circuit. One circuit for all
   * products (the default key is the method), shared by every process on the same Redis.
   * Decorators run outermost first: Failover wraps Cache, which wraps CircuitBreaker.
   */
  @Failover({ ttl: '1h', key: 'last-price:{id}', exceptions: [UpstreamError, CircuitOpenError] })
  @Cache({ ttl: '10s', key: 'price:{id}' })
  @CircuitBreaker({
    errorsRate: 50,
    period: '1m',
    ttl: '20s',
    minCalls: 5,
    halfOpenTtl: '10s',
    exceptions: [UpstreamError],
  })
  price(id: string): Promise<PriceDto> {
    return this.upstream.fetchPrice(id);
  }

  /**
   * Stock is fresh for 15 s; after that the next call refetches it, and if the upstream is failing the
   * previous figure keeps being served (marked stale) for up to 10 minutes.
   */
  @Soft({ ttl: '10m', softTtl: '15s' })
  stock(id: string): Promise<StockDto> {
    return this.upstream.fetchStock(id);
  }

  /**
   * Nobody guessed a TTL here: `@Adaptive` watches how often the same product's reviews are asked for and how often
   * they actually change (about once a minute), and caches them for that long once it is worth it, never longer
   * than 5 minutes, nor serving a list older than 1 minute; read often from a slow upstream, they are refreshed in
   * the background before they expire; a failing upstream gets the last list instead. Its decision, and why, is on
   * the stats page (`/cashews`) and in the log.
   */
  @Adaptive({ maxTtl: '5m', maxStaleness: '1m', key: 'reviews:{id}', exceptions: [UpstreamError] })
  reviews(id: string): Promise<ReviewsDto> {
    return this.upstream.fetchReviews(id);
  }

  /**
   * Ratings are fresh for 5 s. After that the next call refetches them, and the upstream always takes longer than
   * 100 ms: the caller gets the previous rating at 100 ms (kept 10 minutes past its ttl, marked stale with
   * `X-From-Cache-Exc: CacheTimeoutError`) while the refetch finishes in the background and stores the new one.
   * Nobody waits more than 2 s: without a previous rating, a slower upstream is a 504 (`CacheTimeoutError`).
   */
  @Cache({ ttl: '5s', staleTtl: '10m', timeout: '100ms', hardTimeout: '2s', key: 'rating:{id}' })
  rating(id: string): Promise<RatingDto> {
    return this.upstream.fetchRating(id);
  }

  /**
   * Whether a product id exists, for links from outside (bots try every id): a dual Bloom filter learns the answers,
   * so an id asked before is answered from the filter's bits without a round trip to the upstream. A 404 from the
   * upstream is a `false` answer; an upstream failure is no answer and is not learned.
   */
  @Bloom({ capacity: 10_000, falsePositiveRate: 0.001, dual: true, name: 'products', key: '{id}' })
  async exists(id: string): Promise<boolean> {
    try {
      await this.upstream.fetchProduct(id);
      return true;
    } catch (error) {
      if (error instanceof ProductNotFoundError) return false;
      throw error;
    }
  }

  /**
   * Shipping depends on the visitor's region, which no parameter carries: app.module.ts fills the key context from
   * the `X-Region` header (module option `keyContext`), and `{@region}` keeps each region's quote apart, here and
   * in every provider method called while serving the request.
   */
  @Cache({ ttl: '5m', key: 'shipping:{@region}:{id}' })
  shipping(id: string): Promise<ShippingDto> {
    return this.upstream.fetchShipping(id, String(keyContext.get('region')));
  }

  /**
   * The catalogue as CSV, streamed line by line. The first download is recorded while it streams; the next ones
   * for a minute replay the recorded bytes (with the same content type and file name) without touching the upstream.
   */
  @Cache({ ttl: '1m', key: 'catalogue-csv', maxBytes: '256KB' })
  async exportCsv(): Promise<StreamableFile> {
    const products = await this.upstream.listProducts();
    const lines = (function* () {
      yield 'id,name,category\n';
      for (const p of products) yield `${p.id},${JSON.stringify(p.name)},${p.category}\n`;
    })();
    return new StreamableFile(Readable.from(lines, { objectMode: false }), {
      type: 'text/csv',
      disposition: 'attachment; filename="catalogue.csv"',
    });
  }

  /**
   * The top-sellers ranking is expensive and may lag a little: one computation serves 100 requests.
   * After 80 of them a background refresh starts, so nobody waits when the 100 are used up.
   */
  @HitCache({ ttl: '5m', cacheHits: 100, updateAfter: 80 })
  topSellers(): Promise<TopSellersDto> {
    return this.upstream.fetchTopSellers();
  }
}
