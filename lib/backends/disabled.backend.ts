import type { Primitive } from '../primitives/primitive.js';
import type { Backend } from './backend.interface.js';

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
  /**
   * Each primitive's answer while switched off: counters never persist, locks are granted without being taken,
   * rate limits and circuits never trip, so decorated methods always run.
   */
  async run<A extends readonly unknown[], R>(primitive: Primitive<A, R>, _key: string, ...args: A): Promise<R> {
    return primitive.off(...args);
  }

  // --- Tags ---
  async setTagged(): Promise<boolean> {
    return false;
  }
  async deleteTags(): Promise<number> {
    return 0;
  }
}
