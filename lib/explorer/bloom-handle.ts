import { CashewsConfigError } from '../errors.js';
import { bloomIndexes, bloomKey, type BloomStrategyOptions } from '../strategies/bloom.strategy.js';
import type { Layer } from '../strategies/layer.js';
import type { StrategyCache } from '../strategies/strategy.js';
import { layerOptions } from '../strategies/store-policy.js';

/** What `bloomFilter(service.method)` gives: the filter of a method decorated with `@Bloom`. */
export interface BloomHandle<A extends readonly unknown[]> {
  /** Adds the member of these arguments (as a `true` answer, for a dual filter); a backend failure throws. */
  add(...args: A): Promise<void>;
  /** Whether the member may be in the filter (its bits are all set; `true` filter of a dual one). */
  mightContain(...args: A): Promise<boolean>;
}

const HANDLE = Symbol.for('nestjs-cashews.bloom');

/** Attaches the filter of `layer` to a provider method's wrapper (`bloomFilter`, and `.set` as in cashews). */
export function attachBloomHandle(wrapper: object, layer: Layer, target: string, cacheOf: () => StrategyCache): void {
  const member = (args: readonly unknown[]) => {
    const cache = cacheOf();
    const options = layerOptions(layer as Layer<BloomStrategyOptions>, cache);
    return { cache, options, indexes: bloomIndexes(layer.key({ args }), options.bits, options.hashes) };
  };
  const handle: BloomHandle<readonly unknown[]> = {
    async add(...args) {
      const { cache, options, indexes } = member(args);
      await cache.addBits(bloomKey(options, target, true), indexes, options.ttl, true);
    },
    async mightContain(...args) {
      const { cache, options, indexes } = member(args);
      const bits = await cache.readBits(bloomKey(options, target, true), indexes);
      return bits === undefined || bits.every((bit) => bit === 1);
    },
  };
  Object.defineProperty(wrapper, HANDLE, { value: handle });
  Object.defineProperty(wrapper, 'set', { value: handle.add, configurable: true });
}

/**
 * The Bloom filter of a provider method decorated with `@Bloom`, read from the method of the provider instance (after
 * bootstrap).
 * @throws CashewsConfigError when `method` is not such a method.
 * @example
 * ```ts
 * async function register(users: { emailTaken(email: string): Promise<boolean> }, email: string): Promise<void> {
 *   await bloomFilter(users.emailTaken).add(email); // emailTaken(email) now runs to confirm
 * }
 * ```
 */
export function bloomFilter<A extends readonly unknown[]>(method: (...args: A) => Promise<boolean>): BloomHandle<A> {
  const handle = (method as unknown as Record<symbol, unknown> | undefined)?.[HANDLE];
  if (!handle) {
    throw new CashewsConfigError(
      'bloomFilter(method): not a @Bloom method of a provider instance of a started application. Pass the method ' +
        'of the instance Nest injected (bloomFilter(this.users.emailTaken)), after the application has started.',
    );
  }
  return handle as BloomHandle<A>;
}
