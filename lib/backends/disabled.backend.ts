import type { Backend } from './backend.interface.js';
import type { CircuitState, WindowState } from './protect-types.js';

/**
 * What `enable=0` installs: every command is a no-op answering a miss, so decorated methods always run
 * and code that injects the cache needs no special case.
 * @example
 * ```ts
 * const cache = await createCache('mem://?enable=0');
 * console.log(cache.backend instanceof DisabledBackend); // true: every read is a miss
 * ```
 */
export class DisabledBackend implements Backend {
  readonly kind = 'disabled' as const;
  async connect(): Promise<void> {}
  async close(): Promise<void> {}
  async get(): Promise<unknown> {
    return undefined;
  }
  async getMany(keys: readonly string[]): Promise<unknown[]> {
    return keys.map(() => undefined);
  }
  async set(): Promise<boolean> {
    return false;
  }
  async setMany(): Promise<void> {}
  /** A counter that never persists: each call starts from zero. */
  async incr(_key: string, by: number): Promise<number> {
    return by;
  }
  async delete(): Promise<boolean> {
    return false;
  }
  async deleteMany(): Promise<number> {
    return 0;
  }
  async *scan(): AsyncIterable<string> {}
  async deleteMatch(): Promise<number> {
    return 0;
  }
  async expire(): Promise<boolean> {
    return false;
  }
  async getExpire(): Promise<number> {
    return -2;
  }
  async exists(): Promise<boolean> {
    return false;
  }
  async ping(message?: string): Promise<string> {
    return message ?? 'PONG';
  }
  async clear(): Promise<void> {}
  /** Locks always succeed so `@Locked` methods run rather than wait forever. */
  async setLock(): Promise<boolean> {
    return true;
  }
  async unlock(): Promise<boolean> {
    return true;
  }
  /** Rate limits and circuits never trip: with the cache off, decorated methods always run. */
  async fixedWindow(_key: string, limit: number, period: number): Promise<WindowState> {
    return { allowed: true, remaining: Math.max(0, limit - 1), reset: period };
  }
  async slidingWindow(_key: string, limit: number, period: number): Promise<WindowState> {
    return { allowed: true, remaining: Math.max(0, limit - 1), reset: period };
  }
  async circuit(): Promise<CircuitState> {
    return { state: 'closed', allowed: true, trial: false, retryAfter: 0 };
  }

  // --- Tags ---
  async setTagged(): Promise<boolean> {
    return false;
  }
  async deleteTags(): Promise<number> {
    return 0;
  }
}
