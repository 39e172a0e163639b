import { Injectable } from '@nestjs/common';
import { CacheService, InjectCache } from '../../lib/index.js';

const MAX_ITEMS = 5;

/**
 * Per-visitor "recently viewed" list, kept in the small named `sessions` instance (an in-process LRU of
 * 1000 entries): losing it on restart is harmless, and it must never evict catalogue entries from the
 * main cache, which is why it lives in a cache instance of its own.
 */
@Injectable()
export class RecentlyViewedService {
  constructor(@InjectCache('sessions') private readonly sessions: CacheService) {}

  /** Moves `productId` to the front. Read-modify-write is fine here: one visitor, one browser tab. */
  async record(sessionId: string, productId: string): Promise<void> {
    const current = await this.list(sessionId);
    const next = [productId, ...current.filter((id) => id !== productId)].slice(0, MAX_ITEMS);
    // Every visit restarts the 30 minute idle expiry, like a session cookie: the 'sessions' instance's default
    // TTL (see app.module.ts) applies to every set without its own.
    await this.sessions.set(this.key(sessionId), next);
  }

  async list(sessionId: string): Promise<string[]> {
    return (await this.sessions.get<string[]>(this.key(sessionId))) ?? [];
  }

  private key(sessionId: string): string {
    return `recent:${sessionId}`;
  }
}
