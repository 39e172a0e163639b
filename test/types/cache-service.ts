/** Type tests of CacheService.get's default (see test/types/decorators.ts for how they run). */
import type { CacheService } from '../../lib/index.js';

interface Page {
  items: string[];
}

declare const cache: CacheService;

export async function defaults(): Promise<void> {
  const n: number = await cache.get('n', 0);
  const page: Page | null = await cache.get<Page>('k', null);
  const maybe: Page | undefined = await cache.get<Page>('k');
  const fallback: Page = await cache.get<Page>('k', { items: [] });
  const text: string = await cache.get('s', 'none');
  // @ts-expect-error without a default, a miss is undefined
  const missing: Page = await cache.get<Page>('k');
  // @ts-expect-error the default is not a Page
  await cache.get<Page>('k', 42);
  // @ts-expect-error a null default can be returned
  const notNull: Page = await cache.get<Page>('k', null);
  void [n, page, maybe, fallback, text, missing, notNull];
}
