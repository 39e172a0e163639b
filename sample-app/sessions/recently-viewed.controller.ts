import { BadRequestException, Controller, Get, Headers } from '@nestjs/common';
import { RecentlyViewedService } from './recently-viewed.service.js';

export interface RecentlyViewedDto {
  sessionId: string;
  productIds: string[];
  /** Product pages opened in this session (written with the list, in one transaction). */
  views: number;
}

@Controller('me')
export class RecentlyViewedController {
  constructor(private readonly recentlyViewed: RecentlyViewedService) {}

  /** Products viewed with `GET /products/:id` under the same `X-Session-Id` header, newest first. */
  @Get('recently-viewed')
  async list(@Headers('x-session-id') sessionId?: string): Promise<RecentlyViewedDto> {
    if (!sessionId) throw new BadRequestException('Send an X-Session-Id header.');
    const [productIds, views] = await Promise.all([
      this.recentlyViewed.list(sessionId),
      this.recentlyViewed.views(sessionId),
    ]);
    return { sessionId, productIds, views };
  }
}
