import type { UpstreamStatus } from '../upstream/catalogue-upstream.service.js';

/** Body of `POST /admin/upstream`. */
export interface SetUpstreamHealthDto {
  healthy: boolean;
}

export type UpstreamStatusDto = UpstreamStatus;

export interface CachePingDto {
  backend: string;
  reply: string;
  latencyMs: number;
}

export interface CacheInvalidationDto {
  pattern: string;
  deleted: number;
}

export interface ProtectionResetDto {
  pattern: string;
  reset: number;
}
