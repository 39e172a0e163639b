import { BadRequestException, Controller, Get, Headers } from '@nestjs/common';
import { RecentlyViewedService } from './recently-viewed.service.js';

export interface RecentlyViewedDto {
  sessionId: string;
  productIds: string[];
}

@Controller('me')
export class RecentlyViewedController {
  constructor(private readonly recentlyViewed: RecentlyViewedService) {}

  /** Products viewed with `GET /products/:id` under the same `X-Session-Id` header, newest first. */
  @Get('recently-viewed')
  async list(@Headers('x-session-id') sessionId?: string): Promise<RecentlyViewedDto> {
    if (!sessionId) throw new BadRequestException('Send an X-Session-Id header.');
    return { sessionId, productIds: await this.recentlyViewed.list(sessionId) };
  }
}
