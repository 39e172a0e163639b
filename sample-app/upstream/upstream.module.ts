import { Module } from '@nestjs/common';
import { CatalogueUpstreamService } from './catalogue-upstream.service.js';

/** The fake remote catalogue; one instance shared by every feature so the admin toggle affects them all. */
@Module({
  providers: [CatalogueUpstreamService],
  exports: [CatalogueUpstreamService],
})
export class UpstreamModule {}
