import type { AdaptiveStats } from '../adaptive/types.js';
import type { ArgumentRead, KeyFunction } from '../keys/key-template.js';
import type { Next, Strategy, StrategyCache, StrategyCall } from './strategy.js';

/** A class, abstract or not, whatever its constructor takes: what decorators and the explorer hold classes as. */
export type ClassType = abstract new (...args: never[]) => unknown;

/**
 * What the adapters (statistics, HTTP headers, request directives) need to know about a layer's options, read
 * through its strategy's {@link StrategyDefinition} instead of by option name.
 */
export interface StrategyTraits {
  /** Fixed TTL (ms) of the entries the layer stores, from which an entry's age is derived; unset when per result. */
  readonly ttl?: number;
  /** Set on circuit breakers only: how long (ms) a half-open circuit lets one trial call through (0: no half-open). */
  readonly halfOpenTtl?: number;
  /** Controllers: the HTTP layer sends an ETag and answers 304. */
  readonly etag?: boolean;
  /**
   * `@Adaptive` layers: the decision and its figures on a cache instance (identified by its statistics collector),
   * `undefined` before the layer's first call there.
   */
  readonly adaptive?: (instance: object) => AdaptiveStats | undefined;
}

/** One strategy, typed on its options: its name, what it runs, whether it stores results, and its traits. */
export interface StrategyDefinition<O> {
  /** Decorator family, e.g. `cache`, `failover`, `locked`. */
  readonly name: string;
  readonly run: Strategy<O>;
  /** The strategy stores results: on HTTP it only applies to `methods` and never with `@Res()`. */
  readonly storesResult: boolean;
  /**
   * Suffixes of the keys the strategy stores beside the call's own (`@Adaptive`: `:%adaptive`, `:%early`,
   * `:%failover`): deleted with it when `@Invalidate` names the method.
   */
  readonly derivedKeys?: readonly string[];
  /**
   * Drops what the strategy keeps in this process for `key` on a cache instance (identified by its statistics
   * collector), when `@Invalidate` names the method: `@Adaptive`'s last good results. `options`: the decorator's.
   */
  forget?(options: O, instance: object, key: string): void;
  /** What its options mean to the adapters; called with the options the layer runs with (see `layerOptions`). */
  traits(options: O): StrategyTraits;
  /**
   * A strategy whose hit serves what the cache holds for the call's key as it is and reports it as a plain hit
   * (`@Cache`) goes on from a read the executor made: `now` is what `cache.readNow(call.key)` answered (`PENDING`
   * when the cache must be waited for). The executor then answers a hit known without waiting itself, with no call
   * object, when only the statistics listen (no detection scope); anything else it hands here, read once.
   */
  readonly fromRead?: (
    call: StrategyCall,
    options: O,
    cache: StrategyCache,
    next: Next,
    now: unknown,
  ) => Promise<unknown>;
}

/**
 * The key of a storing layer stacked under another storing layer of the same method with the same key: `:%` and the
 * strategy appended. No call's own key ends so: an argument never renders as `%` and a lower-case letter (escaping
 * writes `%` and two upper-case hex digits), so `(42, 'failover')` cannot read what a layer stored for `(42)`.
 */
export function stackedKey(key: string, strategy: string): string {
  return `${key}:%${strategy}`;
}

const NO_TRAITS: StrategyTraits = Object.freeze({});

/** A {@link StrategyDefinition}, frozen; `traits` defaults to none. */
export function defineStrategy<O>(
  definition: Omit<StrategyDefinition<O>, 'traits'> & { traits?: (options: O) => StrategyTraits },
): StrategyDefinition<O> {
  return Object.freeze({ traits: () => NO_TRAITS, ...definition });
}

/** The fixed TTL of a store policy: a number, or unset when a function of the result. */
export function fixedTtlOf(options: { readonly ttl?: unknown }): number | undefined {
  return typeof options.ttl === 'number' ? options.ttl : undefined;
}

/** One decorator on one method: the strategy to run and everything fixed at decoration time. Frozen once built. */
export interface Layer<O = unknown> {
  /** Decorator family, e.g. `cache`, `failover`, `locked` (the definition's `name`). */
  readonly strategy: string;
  readonly run: Strategy<O>;
  readonly definition: StrategyDefinition<O>;
  readonly options: O;
  /**
   * `ClassName:method`: base of default keys, and the method's name in statistics, metrics and traces. `ClassName` is
   * the class that declares the method; {@link Layer.forClass} gives the layer that names another class.
   */
  readonly base: string;
  /**
   * The same decorator for a method reached through an instance of `type` (a subclass that inherits it): its `base`,
   * and so its default key, names `type` instead of the declaring class. Answers this layer when `type` has the
   * declaring class's name, and the same layer for the same `type` every time. Unset on layers built by hand.
   */
  readonly forClass?: (type: ClassType) => Layer<O>;
  readonly key: KeyFunction;
  /**
   * The arguments its templates read (the key's, its tags' and patterns'), by position: checked against what a
   * handler's parameters are bound to outside HTTP (a GraphQL `@Context()` is no key). Unset on layers built by hand.
   */
  readonly reads?: readonly ArgumentRead[];
  /** Whether the user gave a key template or key function (HTTP default keys are built from the route otherwise). */
  readonly hasTemplate: boolean;
  /** `skipArgs` was given: the default key leaves some arguments out (refused on controllers' route-based keys). */
  readonly skipsArgs?: boolean;
  readonly prefix?: string;
  /** Name of the cache instance (`CashewsModule.forRoot(url, { name })`); default instance when unset. */
  readonly cacheName?: string;
  /** The layer stores results: on HTTP it only applies to `methods` and never with `@Res()`. */
  readonly storesResult: boolean;
  /** HTTP methods a storing layer applies to. Default GET and HEAD. */
  readonly methods?: readonly string[];
  /** A key template or tag/pattern template reads `{req.…}`: only valid on controller handlers. */
  readonly usesRequest: boolean;
  /**
   * Version segment of default keys (`v<version>` after the base): the decorator's `version`, or a
   * fingerprint of the method source. Unset on layers built by hand.
   */
  readonly version?: string;
  /**
   * Default key when no template is given: `'method'` is `ClassName:method` alone (one circuit per method);
   * `'client'` adds the HTTP client (`req.ip`) on controllers (rate limits). Unset: the arguments or route.
   */
  readonly defaultKey?: 'method' | 'client';
}
