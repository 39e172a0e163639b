import { Inject } from '@nestjs/common';
import { CacheService } from './cache.service.js';

/**
 * DI token of a cache instance: `CacheService` itself for the default one, a string for named ones.
 * @example
 * ```ts
 * const sessions = app.get<CacheService>(getCacheToken('sessions'));
 * ```
 */
export function getCacheToken(name?: string): string | typeof CacheService {
  return name ? `CashewsCache:${name}` : CacheService;
}

/**
 * Injects a cache instance; without a name, the default one (same as typing the parameter `CacheService`).
 * @example
 * ```ts
 * ;@Injectable()
 * export class SessionsService {
 *   constructor(@InjectCache('sessions') private readonly sessions: CacheService) {}
 * }
 * ```
 */
export function InjectCache(name?: string): ParameterDecorator & PropertyDecorator {
  return Inject(getCacheToken(name));
}
