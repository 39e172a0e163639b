import { Injectable } from '@nestjs/common';
import { CacheService, InjectCache, Transactional } from '../../lib/index.js';

const MAX_ITEMS = 5;

/**
 * Per-visitor "recently viewed" list, kept in the small named `sessions` instance (an in-process LRU of
 * 1000 entries): losing it on restart is harmless, and it must never evict catalogue entries from the
 * main cache, which is why it lives in a cache instance of its own.
 */
@Injectable()
export class RecentlyViewedService {
  constructor(@InjectCache('sessions') private readonly sessions: CacheService) {}

  /**
   * Moves `productId` to the front and counts the view: both writes are committed together by the transaction
   * (a failure in between leaves neither). In `locked` mode two tabs of one visitor writing at once take turns
   * on each key; the count never loses a view (a counter commits as an increment), while the list is a
   * read-modify-write and keeps the last tab's order, which is fine for a "recently viewed" list.
   */
  @Transactional({ cache: 'sessions', mode: 'locked', timeout: '2s' })
  async record(sessionId: string, productId: string): Promise<void> {
    const current = await this.list(sessionId);
    const next = [productId, ...current.filter((id) => id !== productId)].slice(0, MAX_ITEMS);
    // Every visit restarts the 30 minute idle expiry, like a session cookie: the 'sessions' instance's default
    // TTL (see app.module.ts) applies to every set without its own.
    await this.sessions.set(this.key(sessionId), next);
    await this.sessions.incr(`views:${sessionId}`, 1, { ttl: '30m' });
  }

  async list(sessionId: string): Promise<string[]> {
    return (await this.sessions.get<string[]>(this.key(sessionId))) ?? [];
  }

  /** How many product pages the visitor opened in this session. */
  async views(sessionId: string): Promise<number> {
    return (await this.sessions.get<number>(`views:${sessionId}`)) ?? 0;
  }

  private key(sessionId: string): string {
    return `recent:${sessionId}`;
  }
}
