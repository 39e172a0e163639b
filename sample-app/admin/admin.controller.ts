import { Body, Controller, Delete, Get, HttpCode, ParseBoolPipe, Post } from '@nestjs/common';
import { CacheService } from '../../lib/index.js';
import { CatalogueUpstreamService } from '../upstream/catalogue-upstream.service.js';
import type {
  CacheInvalidationDto,
  CachePingDto,
  ProtectionResetDto,
  SetUpstreamHealthDto,
  UpstreamStatusDto,
} from './admin.dto.js';
import { ReindexService, type ReindexResultDto } from './reindex.service.js';

/** Operational endpoints. A real service would put these behind authentication. */
@Controller('admin')
export class AdminController {
  constructor(
    private readonly cache: CacheService,
    private readonly upstream: CatalogueUpstreamService,
    private readonly reindexer: ReindexService,
  ) {}

  @Post('reindex')
  @HttpCode(200)
  reindex(): Promise<ReindexResultDto> {
    return this.reindexer.reindex();
  }

  @Get('upstream')
  upstreamStatus(): UpstreamStatusDto {
    return this.upstream.status();
  }

  /** `{ "healthy": false }` simulates an outage, to watch `@Failover` and `@Soft` answer anyway. */
  @Post('upstream')
  @HttpCode(200)
  setUpstreamHealth(
    // ParseBoolPipe rejects anything but true/false with a 400, so no validation library is needed.
    @Body('healthy', ParseBoolPipe) healthy: SetUpstreamHealthDto['healthy'],
  ): UpstreamStatusDto {
    this.upstream.setHealthy(healthy);
    return this.upstream.status();
  }

  /** Health check of the cache backend; `ping` throws (answered 503) when Redis is unreachable. */
  @Get('cache/ping')
  async ping(): Promise<CachePingDto> {
    const started = performance.now();
    const reply = await this.cache.ping();
    const latencyMs = Math.round((performance.now() - started) * 100) / 100;
    return { backend: this.cache.config.displayUrl, reply, latencyMs };
  }

  /** Drops every cached product page (`product:{id}` keys); the next read of each goes to the upstream. */
  @Delete('cache/products')
  async invalidateProducts(): Promise<CacheInvalidationDto> {
    const pattern = 'product:*';
    return { pattern, deleted: await this.cache.deleteMatch(pattern) };
  }

  /**
   * Starts every rate-limit window and circuit afresh (and releases locks): protection state is out of reach of
   * `deleteMatch`, tags and `@Invalidate`; `resetProtection` is the way to clear it (here, and between tests).
   */
  @Delete('cache/protection')
  async resetProtection(): Promise<ProtectionResetDto> {
    const pattern = '*';
    return { pattern, reset: await this.cache.resetProtection(pattern) };
  }
}
