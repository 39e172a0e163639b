import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import { CacheService, Locked } from '../../lib/index.js';
import { CatalogueUpstreamService } from '../upstream/catalogue-upstream.service.js';

export interface ReindexResultDto {
  indexed: number;
  invalidated: number;
  tookMs: number;
}

@Injectable()
export class ReindexService {
  private readonly logger = new Logger(ReindexService.name);

  constructor(
    private readonly upstream: CatalogueUpstreamService,
    private readonly cache: CacheService,
  ) {}

  /**
   * A reindex must not run twice at once, even with several app instances behind a load balancer: the
   * lock lives in the cache backend (Redis when configured). `wait: false` makes a second caller fail
   * fast with `LockedError` (answered 409) rather than queue up; `ttl` frees the lock if this process dies.
   */
  @Locked({ key: 'reindex', wait: false, ttl: '30s' })
  async reindex(): Promise<ReindexResultDto> {
    const started = Date.now();
    this.logger.log('Reindex started');
    const products = await this.upstream.listProducts();
    // Stands in for the slow part of a real reindex (building a search index, say).
    await sleep(3000);
    const invalidated = await this.cache.deleteMatch('product:*');
    const tookMs = Date.now() - started;
    this.logger.log(`Reindex done: ${products.length} products in ${tookMs} ms`);
    return { indexed: products.length, invalidated, tookMs };
  }
}
