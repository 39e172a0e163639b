import { parsePositiveDuration, type Duration } from '../duration.js';
import { CashewsConfigError } from '../errors.js';
import { refusalOf, unregisteredClassesIn } from '../codec/value-walker.js';
import { errorPolicy, Failure, isCacheable, toStoredError, type ErrorPolicy } from './cached-errors.js';
import type { KeyFunction } from '../keys/key-template.js';
import { renderTags } from '../tags/tag-templates.js';
import { parseSize } from '../size.js';
import { Recording } from '../streams/recording.js';
import { markRunServed } from './stampede.js';
import { registerStoredStream, type StoredStream } from '../streams/stored-stream.js';
import { streamKindOf } from '../streams/stream-kind.js';
import type { Layer } from './layer.js';
import {
  errorName,
  type ConditionOption,
  type Next,
  type RunReport,
  type StrategyCache,
  type StrategyCall,
  type TtlOption,
} from './strategy.js';

/** When and for how long a strategy stores a result; normalized once at decoration time. */
export interface StorePolicy {
  ttl: number | ((result: unknown, args: readonly unknown[]) => number);
  condition?: (result: unknown, args: readonly unknown[]) => boolean;
  /** Store only results whose computation took longer than this (ms). */
  timeCondition?: number;
  /** Thrown errors stored and re-thrown on a hit (`cacheErrors`); unset when none are. */
  errors?: ErrorPolicy;
  /** Compiled tag templates (added by the decorator); each stored entry is recorded under the rendered tags. */
  tags?: readonly KeyFunction[];
  /** Largest recording of a streamed result that is stored (bytes). Default 1 MiB. */
  maxBytes?: number;
}

/** The store options every storing decorator accepts, as the user gave them. */
export interface StoreOptions {
  ttl?: TtlOption;
  condition?: ConditionOption;
  timeCondition?: Duration;
  cacheErrors?: unknown;
  onlyErrors?: unknown;
  errorTtl?: unknown;
  maxBytes?: number | string;
}

/** Default `maxBytes`: a recorded stream larger than this is passed through and not stored. */
const DEFAULT_MAX_BYTES = 1024 * 1024;

function describeValue(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  return JSON.stringify(value) ?? String(value);
}

/**
 * Validates the user's store options; `where` names the decorator in error messages.
 * @throws CashewsConfigError naming the option and the forms it accepts.
 */
export function storePolicy(where: string, options: StoreOptions & { ttl: TtlOption }): StorePolicy {
  const { ttl, condition, timeCondition } = options;
  if (typeof ttl !== 'function' && typeof ttl !== 'number' && typeof ttl !== 'string') {
    throw new CashewsConfigError(
      `${where}: ttl must be a duration such as '5m' or 300000, or a function (result, args) => duration ` +
        `(got ${describeValue(ttl)}).`,
    );
  }
  if (condition !== undefined && condition !== 'notNullish' && typeof condition !== 'function') {
    throw new CashewsConfigError(
      `${where}: condition must be 'notNullish' or a function (result, args) => boolean (got ${describeValue(condition)}).`,
    );
  }
  const fixedTtl = typeof ttl === 'function' ? undefined : parsePositiveDuration(ttl, `${where} ttl`);
  // Registered here, at decoration, so that a stream stored by another process reads back in this one.
  registerStoredStream();
  return {
    ttl:
      typeof ttl === 'function'
        ? (result, args) => parsePositiveDuration(ttl(result, args), `${where} ttl (returned by the ttl function)`)
        : (fixedTtl as number),
    condition: condition === 'notNullish' ? (result) => result !== null && result !== undefined : condition,
    timeCondition:
      timeCondition === undefined ? undefined : parsePositiveDuration(timeCondition, `${where} timeCondition`),
    errors: errorPolicy(where, options, fixedTtl),
    maxBytes: options.maxBytes === undefined ? undefined : parseSize(options.maxBytes, `${where} maxBytes`),
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
export function withTtl<O>(where: string, options: StoreOptions, build: (policy: StorePolicy) => O): O {
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
  // Streams of the recorded kinds are stored once read to their end (see compute); other stream-likes never are.
  if (isStream(result) && !streamKindOf(result)) return false;
  if (policy.timeCondition !== undefined && elapsedMs < policy.timeCondition) return false;
  return policy.condition ? policy.condition(result, args) : true;
}

export function ttlFor(policy: StorePolicy, result: unknown, args: readonly unknown[]): number {
  return typeof policy.ttl === 'function' ? policy.ttl(result, args) : policy.ttl;
}

/** The `set` options of an entry stored for `ttl` ms by `call`: with its rendered tags, if the layer has any. */
export function storeOptions(
  policy: StorePolicy,
  call: StrategyCall,
  ttl: number,
): { ttl: number; tags?: readonly string[] } {
  const tags = renderTags(policy.tags, call.source ?? { args: call.args });
  return tags ? { ttl, tags } : { ttl };
}

/** What one run of the method gave a storing layer. */
export interface Computed {
  /** What the caller gets: the result, or a {@link Failure} holding the cacheable error the method threw. */
  readonly answer: unknown;
  /** Whether {@link value} is to be stored. */
  readonly store: boolean;
  /** What to store: the result, or the stored form of the error. */
  readonly value: unknown;
  /** How long to store it (ms). */
  readonly ttl: number;
  /** A success of an `onlyErrors` layer: a refresh removes the stored error it replaces. */
  readonly clears: boolean;
  /**
   * A streamed result: {@link answer} is its {@link Recording}, and this gives what to store (under {@link ttl}) once
   * the callers have read it to its end, or `undefined` when there is nothing to store. See {@link storeWhenRecorded}.
   */
  readonly recorded?: Promise<StoredStream | undefined>;
}

/**
 * Runs the method under `policy`: a result is stored when the policy says so (never with `onlyErrors`), a thrown
 * error of a `cacheErrors` class is stored under `errorTtl` and answered as a {@link Failure}; any other error is
 * thrown. `condition`, `timeCondition` and a ttl function apply to results only.
 */
export async function compute(call: StrategyCall, policy: StorePolicy, next: Next): Promise<Computed> {
  const started = performance.now();
  const run: RunReport = {};
  let result: unknown;
  try {
    result = await next(run);
  } catch (error) {
    // A stored error a layer below re-threw is not this layer's to store again.
    if (run.served) {
      markRunServed(call);
      throw error;
    }
    const errors = policy.errors;
    if (!errors || !isCacheable(errors, error)) throw error;
    const stored = toStoredError(error as Error);
    if (!stored) {
      call.reportProblem?.(
        'unregistered-error',
        `${errorName(error)} was not stored: no class on its prototype chain is registered any more ` +
          '(unregisterCacheableClass); register it again to cache it.',
      );
      throw error;
    }
    return { answer: new Failure(error), store: true, value: stored, ttl: errors.ttl, clears: false };
  }
  // A stream is read once: every caller sharing this run gets its own replay of one recording.
  const kind = streamKindOf(result);
  const answer = (keep: boolean) =>
    kind ? new Recording(result, kind, { maxBytes: keep ? (policy.maxBytes ?? DEFAULT_MAX_BYTES) : 0 }) : result;
  // Served by a layer below (stacked decorators): passed on, never stored here.
  if (run.served) {
    markRunServed(call);
    return { answer: answer(false), store: false, value: undefined, ttl: 0, clears: false };
  }
  if (policy.errors?.only) return { answer: answer(false), store: false, value: undefined, ttl: 0, clears: true };
  if (!shouldStore(policy, result, call.args, performance.now() - started)) {
    return { answer: answer(false), store: false, value: undefined, ttl: 0, clears: false };
  }
  const ttl = ttlFor(policy, result, call.args);
  if (kind) {
    const recording = answer(true) as Recording;
    return { answer: recording, store: false, value: undefined, ttl, clears: false, recorded: recording.done };
  }
  return { answer: result, store: true, value: result, ttl, clears: false };
}

/**
 * Stores what a decorated method gave (its result, or the strategy's envelope around it) under `key`, as
 * `cache.set` does, except that a value the codec refuses (a function or a cycle in the result, a Date with
 * `codec=json`...) never fails the call: the method ran, and its caller gets the result, uncached. Nothing is
 * written, the store answers `undefined` (a write that did not happen, told apart from a backend's `false`), and the
 * refusal is reported (`call.reportProblem`, logged once per layer and kind of value refused). Any other error goes through. Once stored, instances of classes that are not registered
 * in the value are reported too (once per layer and class, as a warning): hits answer them as plain objects, which
 * a serializer (`ClassSerializerInterceptor` and `@Exclude()`), `instanceof` or a method call would not expect.
 * That check walks the value on this miss path only; hits never get here.
 */
export async function storeResult(
  call: StrategyCall,
  cache: StrategyCache,
  key: string,
  value: unknown,
  options: Parameters<StrategyCache['set']>[2],
): Promise<boolean | undefined> {
  let stored: boolean;
  try {
    stored = await cache.set(key, value, options);
  } catch (error) {
    const refused = refusalOf(error);
    if (refused === undefined) throw error;
    call.reportProblem?.(
      `unstorable:${refused}`,
      `a result could not be stored, so it was answered uncached (and such calls run the method every time): ` +
        `${(error as Error).message}`,
    );
    return undefined;
  }
  if (call.reportProblem) {
    for (const name of unregisteredClassesIn(value)) {
      call.reportProblem(
        `unregistered-class:${name}`,
        `its result holds instances of ${name}, a class not registered for the cache: they are stored as their ` +
          'fields, and a hit answers them as plain objects, so whatever relies on the class is lost (a serializer ' +
          `such as ClassSerializerInterceptor with @Exclude(), instanceof checks, methods). Register it with ` +
          `@CacheableClass() (or registerCacheableClass(${name}), or the module option classes) to get instances back.`,
        'warn',
      );
    }
  }
  return stored;
}

/**
 * Stores a streamed result with `save` once it has been read to its end within `maxBytes` (in the background: the
 * callers already have their streams). Nothing happens for a plain result, nor for a stream that failed, was
 * abandoned or grew too large.
 */
export function storeWhenRecorded(
  call: StrategyCall,
  computed: Computed,
  save: (value: unknown, ttl: number) => Promise<unknown>,
): void {
  const recording = computed.answer instanceof Recording ? computed.answer : undefined;
  void computed.recorded?.then((stored) => {
    if (!stored) return;
    call.background(() => {
      const saving = save(stored, computed.ttl);
      recording?.holdFor(saving);
      return saving;
    });
  });
}

/**
 * The age (ms) after which an entry stored for `ttl` is refreshed (`@Early`) or recomputed (`@Soft`): the fixed
 * `age` (`earlyTtl`/`softTtl`), or a third of `ttl` without one. `undefined` (no refresh: the entry is fresh until it
 * expires) when a ttl function answered a ttl not above the fixed age; that is a configuration problem, reported.
 */
export function refreshAgeFor(
  call: StrategyCall,
  option: 'earlyTtl' | 'softTtl',
  age: number | undefined,
  ttl: number,
): number | undefined {
  if (age === undefined) return ttl > 1 ? Math.max(1, Math.floor(ttl / 3)) : undefined;
  if (age < ttl) return age;
  call.reportProblem?.(
    option,
    `the ttl function answered ${ttl} ms, not above ${option} (${age} ms): such values are stored for their ttl ` +
      `without ${option === 'earlyTtl' ? 'an early refresh' : 'a soft expiry'}. Make every ttl the function ` +
      `answers longer than ${option}, or leave ${option} out (a third of each ttl).`,
  );
  return undefined;
}
