import { CacheableClass } from '../../lib/index.js';

/**
 * The upstream timed out or answered 5xx. This is the error class the resilience decorators are told to
 * absorb (`@Failover({ exceptions: [UpstreamError] })`); anything else still reaches the client.
 */
export class UpstreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamError';
  }
}

/**
 * The upstream answered 404. Deliberately not an `UpstreamError`: no fallback should hide it. Registered
 * (`@CacheableClass`), so `findOne` can store it (`cacheErrors`) and a cached 404 comes back as this class.
 */
@CacheableClass({ name: 'ProductNotFoundError' })
export class ProductNotFoundError extends Error {
  constructor(readonly productId: string) {
    super(`Product "${productId}" does not exist.`);
    this.name = 'ProductNotFoundError';
  }
}
