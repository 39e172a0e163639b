import { parsePositiveDuration } from '../duration.js';
import { CashewsConfigError } from '../errors.js';
import type { Layer } from './layer.js';
import type { ConditionOption, TtlOption } from './strategy.js';

/** When and for how long a strategy stores a result; normalized once at decoration time. */
export interface StorePolicy {
  ttl: number | ((result: unknown) => number);
  condition?: (result: unknown, args: readonly unknown[]) => boolean;
  /** Store only results whose computation took longer than this (ms). */
  timeCondition?: number;
}

/** Validates the user's store options; `where` names the decorator in error messages. */
export function storePolicy(
  where: string,
  options: { ttl: TtlOption; condition?: ConditionOption; timeCondition?: number | string },
): StorePolicy {
  const { ttl, condition, timeCondition } = options;
  return {
    ttl:
      typeof ttl === 'function'
        ? (result: unknown) => parsePositiveDuration(ttl(result), `${where} ttl (returned by the ttl function)`)
        : parsePositiveDuration(ttl, `${where} ttl`),
    condition: condition === 'notNullish' ? (result) => result !== null && result !== undefined : condition,
    timeCondition:
      timeCondition === undefined ? undefined : parsePositiveDuration(timeCondition, `${where} timeCondition`),
  };
}

// Symbol.for: one key whichever build (CommonJS or ESM) created the layer.
const BUILD = Symbol.for('nestjs-cashews.buildWithDefaultTtl');
type Deferred<O> = { readonly [BUILD]: (ttl: number) => O };
/** Options built per cache instance from its default TTL: layer → instance → options. */
const resolved = new WeakMap<Layer, WeakMap<object, unknown>>();
/** Stands in for the default TTL when checking the other options at decoration: longer than anything given. */
const PROBE_TTL = Number.MAX_SAFE_INTEGER;

/**
 * A decorator's layer options, built by `build` from the {@link StorePolicy}. With a `ttl`, they are built now.
 * Without one, the TTL is the cache instance's default, known only at bootstrap: every other option is still
 * checked now (against a TTL longer than any), and {@link layerOptions} builds the options per instance. Options
 * spread next to the result (`{ ...withTtl(...), etag }`) are kept either way.
 * @example const options = withTtl('@Cache', options, (policy) => ({ ...policy, ...stampedeOptions(where, options, policy) }));
 */
export function withTtl<O>(
  where: string,
  options: { ttl?: TtlOption; condition?: ConditionOption; timeCondition?: number | string },
  build: (policy: StorePolicy) => O,
): O {
  if (options.ttl !== undefined) return build(storePolicy(where, { ...options, ttl: options.ttl }));
  build(storePolicy(where, { ...options, ttl: PROBE_TTL }));
  const deferred: Deferred<O> = { [BUILD]: (ttl) => build(storePolicy(where, { ...options, ttl })) };
  return deferred as unknown as O;
}

/** Decorator names of the strategies that store results, for messages. */
const DECORATORS: Record<string, string> = {
  cache: '@Cache',
  early: '@Early',
  soft: '@Soft',
  hit: '@HitCache',
  failover: '@Failover',
};

/**
 * The options `layer` runs with on `cache`: its own, or (decorator without `ttl`) built once per instance from
 * the instance's default TTL. Called at bootstrap for every layer, so a missing default fails start-up.
 * @throws CashewsConfigError naming `Class.method` and both fixes when the instance has no default TTL.
 */
export function layerOptions<O>(layer: Layer<O>, instance: object): O {
  const build = (layer.options as Partial<Deferred<O>> | undefined)?.[BUILD];
  if (!build) return layer.options;
  // A cache engine; typed loosely so that strategies keep depending on StrategyCache only.
  const cache = instance as { readonly defaultTtl?: number; readonly name?: string };
  let perCache = resolved.get(layer as Layer);
  if (!perCache) resolved.set(layer as Layer, (perCache = new WeakMap()));
  let options = perCache.get(instance) as O | undefined;
  if (options === undefined) {
    const ttl = cache.defaultTtl;
    const decorator = DECORATORS[layer.strategy] ?? `@${layer.strategy}`;
    const target = layer.base.replace(':', '.');
    if (ttl === undefined) {
      const which = cache.name === undefined ? 'the default cache instance' : `cache instance "${cache.name}"`;
      const forRoot =
        cache.name === undefined
          ? `CashewsModule.forRoot(url, { ttl: '5m' })`
          : `CashewsModule.forRoot(url, { name: '${cache.name}', ttl: '5m' })`;
      throw new CashewsConfigError(
        `${decorator} on ${target} gives no ttl, and ${which} has no default TTL. Fix: give it one ` +
          `(${decorator}({ ttl: '5m' })), or set a default for the instance: ${forRoot} or '?ttl=5m' in its URL.`,
      );
    }
    try {
      // Options spread next to the deferred ones by the decorator (tags, etag) are kept.
      const { [BUILD]: _, ...given } = layer.options as Deferred<O> & Record<string, unknown>;
      options = { ...given, ...build(ttl) };
    } catch (error) {
      // E.g. an explicit earlyTtl that is not shorter than the default TTL.
      const reason = error instanceof Error ? error.message : String(error);
      throw new CashewsConfigError(
        `${decorator} on ${target}, with the instance's default TTL of ${ttl} ms: ${reason}`,
        {
          cause: error,
        },
      );
    }
    perCache.set(instance, options);
  }
  return options;
}

/** Streams and file responses are consumed once; replaying a stored one would send nothing. */
function isStream(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { pipe?: unknown; getStream?: unknown };
  return typeof candidate.pipe === 'function' || typeof candidate.getStream === 'function';
}

export function shouldStore(
  policy: StorePolicy,
  result: unknown,
  args: readonly unknown[],
  elapsedMs: number,
): boolean {
  if (isStream(result)) return false;
  if (policy.timeCondition !== undefined && elapsedMs < policy.timeCondition) return false;
  return policy.condition ? policy.condition(result, args) : true;
}

export function ttlFor(policy: StorePolicy, result: unknown): number {
  return typeof policy.ttl === 'function' ? policy.ttl(result) : policy.ttl;
}

/** Runs the method and reports its result with the time it took. */
export async function timed(next: () => Promise<unknown>): Promise<{ result: unknown; elapsed: number }> {
  const started = performance.now();
  const result = await next();
  return { result, elapsed: performance.now() - started };
}
