import { CacheDetect } from '../detect/cache-detect.js';
import type { KeyFunction, KeySource } from '../keys/key-template.js';
import type { Next, Strategy, StrategyCache, StrategyCall } from './strategy.js';

/** One decorator on one method: the strategy to run and everything fixed at decoration time. */
export interface Layer<O = unknown> {
  /** Decorator family, e.g. `cache`, `failover`, `locked`. */
  readonly strategy: string;
  readonly run: Strategy<O>;
  readonly options: O;
  /** `ClassName:method`: base of default keys. */
  readonly base: string;
  readonly key: KeyFunction;
  /** Whether the user gave a key template (HTTP default keys are built from the route otherwise). */
  readonly hasTemplate: boolean;
  readonly prefix?: string;
  /** Name of the cache instance (`CashewsModule.forRoot(url, { name })`); default instance when unset. */
  readonly cacheName?: string;
  /** The layer stores results: on HTTP it only applies to `methods` and never with `@Res()`. */
  readonly storesResult: boolean;
  /** HTTP methods a storing layer applies to. Default GET and HEAD. */
  readonly methods?: readonly string[];
  /** The key template reads `{req.…}`: only valid on controller handlers. */
  readonly usesRequest: boolean;
}

/** How a call reached the executor: the decorated target, its arguments, and an optional key override. */
export interface Invocation {
  readonly target: string;
  readonly source: KeySource;
  /** Builds the key of a layer when the adapter knows better (HTTP default keys). */
  readonly keyOf?: (layer: Layer) => string;
}

/** Hooks the adapters provide; the executor itself knows nothing about Nest or logging. */
export interface ExecutorHooks {
  cacheFor(layer: Layer): StrategyCache & { getExpire(key: string): Promise<number> };
  onBackgroundError(target: string, error: unknown): void;
}

const pending = new Set<Promise<unknown>>();

/** Resolves when every background refresh started so far has finished (for shutdown and tests). */
export async function backgroundSettled(): Promise<void> {
  while (pending.size) await Promise.allSettled([...pending]);
}

/**
 * Runs a method through its layers, outermost first. The interceptor (controllers), the provider
 * wrapper and `CacheService.wrap` all come here, so no strategy exists twice.
 */
export function execute(
  layers: readonly Layer[],
  invocation: Invocation,
  hooks: ExecutorHooks,
  method: Next,
): Promise<unknown> {
  let chain = method;
  for (let i = layers.length - 1; i >= 0; i--) chain = bind(layers[i], invocation, hooks, chain);
  return chain();
}

function bind(layer: Layer, invocation: Invocation, hooks: ExecutorHooks, next: Next): Next {
  return () => {
    const cache = hooks.cacheFor(layer);
    const key = invocation.keyOf ? invocation.keyOf(layer) : layer.key(invocation.source);
    const call: StrategyCall = {
      target: invocation.target,
      args: invocation.source.args,
      key,
      async report(hit) {
        if (!CacheDetect.active()) return;
        const served = hit.key ?? key;
        CacheDetect.report({ ...hit, key: served, ttl: await cache.getExpire(served) });
      },
      background(work) {
        const task = work()
          .catch((error: unknown) => hooks.onBackgroundError(invocation.target, error))
          .finally(() => pending.delete(task));
        pending.add(task);
      },
    };
    return layer.run(call, layer.options, cache, next);
  };
}
