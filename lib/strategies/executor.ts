import { detectContext, type CacheHit, type DetectScope } from '../detect/cache-detect.js';
import { KeyPlaceholderError } from '../errors.js';
import { directedCache } from '../detect/directed-cache.js';
import type { KeySource } from '../keys/key-template.js';
import type { CircuitState } from '../backends/protect-types.js';
import { stackedKey, type Layer } from './layer.js';
import { NO_OBSERVER, type ExecutionObserver, type LayerObserver } from './observer.js';
import { layerOptions } from './store-policy.js';
import { servedAsStored } from './cached-errors.js';
import { PENDING } from '../miss.js';
import { Recording } from '../streams/recording.js';
import type { Next, ProblemSeverity, RunReport, StrategyCache, StrategyCall, LimitInfo } from './strategy.js';

export type { Layer } from './layer.js';

/** How a call reached the executor: the decorated target, its arguments, and an optional key override. */
export interface Invocation {
  readonly target: string;
  readonly source: KeySource;
  /** Builds the key of a layer when the adapter knows better (HTTP default keys). */
  readonly keyOf?: (layer: Layer) => string;
  /** Receives rate-limit state (HTTP: `X-RateLimit-*` headers). */
  readonly onLimit?: (info: LimitInfo) => void;
  /** The detection scope of the call when the adapter knows it (a route's request); else the async context's. */
  readonly detect?: DetectScope;
}

/** Hooks the adapters provide; the executor itself knows nothing about Nest or logging. */
export interface ExecutorHooks {
  cacheFor(layer: Layer): StrategyCache & {
    getExpire(key: string): Promise<number>;
    /** The remaining TTL when known without waiting (memory), else `undefined`. */
    expireNow?(key: string): number | undefined;
    /** Commands switched off at run time (`CacheService.disabling`); layers always run without it. */
    readonly runtime?: { skips(layer: Layer): boolean };
    /** Usage statistics of the instance (`CacheService.stats()`) and tracing; calls are not observed without it. */
    readonly observer?: ExecutionObserver;
  };
  onBackgroundError(target: string, error: unknown): void;
  /**
   * Takes a background refresh (`@Early`, `@Soft`) that was started for `target`, so the application can wait for
   * it at shutdown (`CashewsRegistry`). Hooks without it: the work is only seen by {@link backgroundSettled}.
   */
  trackBackground?(target: string, work: Promise<void>): void;
  /**
   * A strict key template placeholder rendered `undefined` for a call (see {@link keyOrMissing}): `skipped`
   * (the call ran without the layer), `refused` (the call failed with the error) or `client` (a controller rate
   * limit counted the client instead). Adapters log it once per layer and placeholder.
   */
  onMissingKeyPart?(layer: Layer, target: string, error: KeyPlaceholderError, outcome: MissingKeyOutcome): void;
  /**
   * A configuration problem a call of `target` revealed (see `StrategyCall.reportProblem`): adapters log it once per
   * layer and `kind`.
   */
  onLayerProblem?(layer: Layer, target: string, kind: string, message: string, severity?: ProblemSeverity): void;
  /** Something a call of `target` reports for the log every time (see `StrategyCall.reportEvent`). */
  onLayerEvent?(layer: Layer, target: string, message: string): void;
}

export type MissingKeyOutcome = 'skipped' | 'refused' | 'client';

/**
 * Background work of every application in the process, for {@link backgroundSettled} only (tests, scripts). What an
 * application waits for at shutdown is its own `CashewsRegistry`'s.
 */
const pending = new Set<Promise<unknown>>();

/** Adds background work to what {@link backgroundSettled} waits for; it leaves the set once settled. */
export function trackProcessWide(work: Promise<unknown>): void {
  const settle = () => void pending.delete(work);
  pending.add(work);
  void work.then(settle, settle);
}

/**
 * Resolves when every background refresh started so far, in any application of the process, has finished (tests).
 * `app.close()` waits for an application's own refreshes by itself (bounded by the module option `shutdownTimeout`).
 * @example
 * ```ts
 * afterEach(() => backgroundSettled()); // Early/Soft refreshes of the test finish before the next one
 * ```
 */
export async function backgroundSettled(): Promise<void> {
  while (pending.size) await Promise.allSettled([...pending]);
}

/**
 * Runs a method through its layers, outermost first. The interceptor (controllers) and the provider
 * wrapper (the explorer) both come here, so no strategy exists twice.
 */
export function execute(
  layers: readonly Layer[],
  invocation: Invocation,
  hooks: ExecutorHooks,
  method: Next,
): Promise<unknown> {
  if (layers.length === 1) {
    return enter(layers[0], hooks.cacheFor(layers[0]), undefined, invocation, hooks, method, undefined);
  }
  return executeStack(layers, invocation, hooks, method);
}

/**
 * The method a prepared execution wraps, for one call, as an object rather than a closure (see {@link nextOf}): a hit
 * never runs the method, and a closure made per call for nothing cost up to a tenth of a memory hit's time.
 */
export interface MethodCall {
  /** Runs the method for this call. */
  call(): Promise<unknown>;
}

/** The method as a chain's last `next`, made only when a layer is about to run it. */
function nextOf(method: Next | MethodCall): Next {
  return typeof method === 'function' ? method : () => method.call();
}

/** What {@link prepareExecution} answers: runs one call of the method (`method` runs what the layers wrap). */
export type PreparedExecution = (invocation: Invocation, method: Next | MethodCall) => Promise<unknown>;

/**
 * A method's layers bound to the adapter's hooks once, at bootstrap, for its every call: as {@link execute}, except
 * that a method with one layer asks `hooks.cacheFor` once (the instance a layer runs on is fixed once resolved) and
 * keeps the options the layer runs with there and its statistics handle, so that a hit looks up none of them.
 */
export function prepareExecution(layers: readonly Layer[], hooks: ExecutorHooks): PreparedExecution {
  if (layers.length !== 1) return (invocation, method) => executeStack(layers, invocation, hooks, nextOf(method));
  const site = new SingleLayer(layers[0], hooks);
  return (invocation, method) => site.run(invocation, method);
}

type HookCache = ReturnType<ExecutorHooks['cacheFor']>;

/** The one layer of a prepared method, with what it looked up at its first call (see {@link prepareExecution}). */
class SingleLayer {
  private base?: HookCache;
  private options: unknown;
  /** The observer `stats` came from: an instance that starts tracing after the first call hands out another. */
  private observer?: ExecutionObserver;
  private stats: LayerObserver = NO_OBSERVER;

  constructor(
    private readonly layer: Layer,
    private readonly hooks: ExecutorHooks,
  ) {}

  run(invocation: Invocation, method: Next | MethodCall): Promise<unknown> {
    const layer = this.layer;
    let base = this.base;
    if (base === undefined) {
      base = this.base = this.hooks.cacheFor(layer);
      this.options = layerOptions(layer, base);
    }
    if (base.runtime?.skips(layer)) return nextOf(method)(undefined);
    const options = this.options;
    let stats = this.stats;
    if (base.observer !== this.observer) {
      this.observer = base.observer;
      stats = this.stats = base.observer ? base.observer.observe(layer, options) : NO_OBSERVER;
    }
    return run(layer, base, options, stats, undefined, invocation, this.hooks, method, undefined);
  }
}

function executeStack(
  layers: readonly Layer[],
  invocation: Invocation,
  hooks: ExecutorHooks,
  method: Next,
): Promise<unknown> {
  const keys: string[] = [];
  const keyAt = (i: number): string => {
    let key = keys[i];
    if (key !== undefined) return key;
    const layer = layers[i];
    key = keyOf(layer, invocation);
    // Storing layers of one method must not share an entry (nor a single flight, which would wait on
    // itself): the outer one keeps the key, an inner one with the same key gets a suffix (see `stackedKey`).
    if (layer.storesResult) {
      for (let j = 0; j < i; j++) {
        const outer = layers[j];
        if (outer.storesResult && outer.cacheName === layer.cacheName && keyOrMissing(() => keyAt(j)) === key) {
          key = stackedKey(key, layer.strategy);
          j = -1; // the suffixed key is checked against every outer layer again
        }
      }
    }
    return (keys[i] = key);
  };
  let chain = method;
  for (let i = layers.length - 1; i >= 0; i--) {
    const index = i;
    chain = bind(layers[i], () => keyAt(index), invocation, hooks, chain);
  }
  return chain();
}

function keyOf(layer: Layer, invocation: Invocation): string {
  return invocation.keyOf ? invocation.keyOf(layer) : layer.key(invocation.source);
}

/** The key, or the error when a placeholder of its template rendered `undefined` (other errors propagate). */
function keyOrMissing(keyFor: () => string): string | KeyPlaceholderError {
  try {
    return keyFor();
  } catch (error) {
    if (error instanceof KeyPlaceholderError) return error;
    throw error;
  }
}

/**
 * A call whose key has a placeholder that rendered `undefined` never shares an entry or a bucket with other such
 * calls. A layer that only saves work or guards health (result-storing layers, circuit breaker, perf guard) steps
 * aside: the call runs below it, nothing is read or stored. A layer whose key is a promise of exclusivity or a
 * quota (lock, rate limit on a provider) refuses the call with the error instead. Controllers' rate limits never
 * get here: the interceptor counts the client instead.
 */
function withoutKey(
  layer: Layer,
  invocation: Invocation,
  hooks: ExecutorHooks,
  error: KeyPlaceholderError,
  next: Next,
  outer: RunReport | undefined,
) {
  const skip = layer.storesResult || layer.defaultKey === 'method';
  hooks.onMissingKeyPart?.(layer, invocation.target, error, skip ? 'skipped' : 'refused');
  return skip ? next(outer) : Promise.reject(error);
}

/**
 * One layer of the chain. `outer` is the report of the run (of the layer above) this call belongs to: a hit of this
 * layer, or anything served below it within the run, marks it, so that no layer above stores a served value.
 */
function bind(layer: Layer, keyFor: () => string, invocation: Invocation, hooks: ExecutorHooks, next: Next): Next {
  return (outer) => enter(layer, hooks.cacheFor(layer), keyFor, invocation, hooks, next, outer);
}

/**
 * One layer on its cache instance, for one call: {@link execute}'s single layer (no chain for one link) and each link
 * {@link bind} makes. `keyFor`: a stacked layer's key (see {@link executeStack}); unset, the layer's own.
 */
function enter(
  layer: Layer,
  base: HookCache,
  keyFor: (() => string) | undefined,
  invocation: Invocation,
  hooks: ExecutorHooks,
  next: Next,
  outer: RunReport | undefined,
): Promise<unknown> {
  // Run-time switch (`cache.disabling()`, `cache.disable()`): a layer whose commands are all off steps aside.
  if (base.runtime?.skips(layer)) return next(outer);
  // A decorator without `ttl` runs with options built from this instance's default TTL.
  const options = layerOptions(layer, base);
  // Usage statistics: one handle per layer and instance, looked up (not created) after the first call.
  const stats = base.observer ? base.observer.observe(layer, options) : NO_OBSERVER;
  return run(layer, base, options, stats, keyFor, invocation, hooks, next, outer);
}

/**
 * Runs `layer`'s strategy for one call, once the layer is known to run and its options and statistics are known.
 * `keyFor`: how a stacked layer's key is found (see {@link executeStack}); a single layer's is built here, with no
 * closure per call.
 */
function run(
  layer: Layer,
  base: HookCache,
  options: unknown,
  stats: LayerObserver,
  keyFor: (() => string) | undefined,
  invocation: Invocation,
  hooks: ExecutorHooks,
  next: Next | MethodCall,
  outer: RunReport | undefined,
): Promise<unknown> {
  stats.onCall();
  // Read once: the request's directives, and where a hit is recorded (see LayerCall.detect).
  const detect = invocation.detect ?? detectContext.current();
  const directives = detect?.directives;
  const cache = directives ? directedCache(base, directives, layer.definition.traits(options).ttl) : base;
  let key: string | KeyPlaceholderError;
  try {
    key = keyFor ? keyFor() : keyOf(layer, invocation);
  } catch (error) {
    // A key function that throws (or returns a non-string) fails this call as a rejection, not synchronously.
    if (!(error instanceof KeyPlaceholderError)) return Promise.reject(error);
    key = error;
  }
  if (typeof key !== 'string') return withoutKey(layer, invocation, hooks, key, nextOf(next), outer);
  const fromRead = layer.definition.fromRead;
  if (fromRead !== undefined && detect === undefined && cache.readNow !== undefined) {
    // A hit that nothing but the statistics listen for: answered here, without the call object and the strategy's
    // report (the same counts: a call and a hit). Known without waiting (memory, a client-side entry): at once.
    const now = cache.readNow(key);
    if (now === PENDING) return readThenAnswer(layer, key, options, stats, cache, invocation, hooks, next, outer);
    if (servedAsStored(now)) return Promise.resolve(answerHit(stats, outer, now));
    const call = new LayerCall(layer, invocation, key, options, stats, cache, hooks, outer, detect);
    return fromRead(call, options, cache, runBelow(call, stats, nextOf(next), outer), now);
  }
  const call = new LayerCall(layer, invocation, key, options, stats, cache, hooks, outer, detect);
  return layer.run(call, options, cache, runBelow(call, stats, nextOf(next), outer));
}

/** A hit {@link run} answers itself: the run it belongs to is served, the statistics count it. */
function answerHit(stats: LayerObserver, outer: RunReport | undefined, value: unknown): unknown {
  if (outer) outer.served = true;
  stats.onHit();
  return value;
}

/**
 * {@link run}'s fast path for a read that has to wait (Redis): the hit is answered in the read's own continuation,
 * and only a miss (or a stored error or stream) makes the call object and hands the read to the strategy, so nothing
 * is read twice. A read that throws before it returns its promise fails the call, as in the strategy's own read.
 */
function readThenAnswer(
  layer: Layer,
  key: string,
  options: unknown,
  stats: LayerObserver,
  cache: StrategyCache & { getExpire(key: string): Promise<number> },
  invocation: Invocation,
  hooks: ExecutorHooks,
  next: Next | MethodCall,
  outer: RunReport | undefined,
): Promise<unknown> {
  let read: Promise<unknown>;
  try {
    read = cache.read(key);
  } catch (error) {
    return Promise.reject(error);
  }
  return read.then((value) => {
    if (servedAsStored(value)) return answerHit(stats, outer, value);
    const call = new LayerCall(layer, invocation, key, options, stats, cache, hooks, outer, undefined);
    const fromRead = layer.definition.fromRead as NonNullable<Layer['definition']['fromRead']>;
    return fromRead(call, options, cache, runBelow(call, stats, nextOf(next), outer), value);
  });
}

/** What a layer's strategy calls to run what is below it: measured, and linked to the run this call belongs to. */
function runBelow(call: LayerCall, stats: LayerObserver, next: Next, outer: RunReport | undefined): Next {
  return (report) => measure(stats, () => next(linked(report, outer)), call.inBackground);
}

/**
 * One call as a layer's strategy sees it. A class rather than an object of closures: on the hit path it is one
 * allocation per layer and call instead of one per method.
 */
class LayerCall implements StrategyCall {
  readonly target: string;
  readonly args: readonly unknown[];
  readonly source: KeySource;
  /** Runs of `next` from here on are background refreshes, not executions made for this caller. */
  inBackground = false;
  /** The key and remaining TTL noted by a read that asked both at once (see {@link noteExpire}). */
  private expireKey?: string;
  private expireTtl = -2;

  constructor(
    private readonly layer: Layer,
    private readonly invocation: Invocation,
    readonly key: string,
    private readonly options: unknown,
    private readonly stats: LayerObserver,
    private readonly cache: {
      getExpire(key: string): Promise<number>;
      expireNow?(key: string): number | undefined;
    },
    private readonly hooks: ExecutorHooks,
    private readonly outer: RunReport | undefined,
    /** The detection scope hits are reported to; none: nobody listens. */
    private readonly detect: DetectScope | undefined,
  ) {
    this.target = invocation.target;
    this.args = invocation.source.args;
    this.source = invocation.source;
  }

  /** A read of this call asks the remaining TTL with the value when a detection scope will record the hit. */
  get wantsExpire(): boolean {
    return this.detect !== undefined;
  }

  noteExpire(key: string, ttl: number): void {
    this.expireKey = key;
    this.expireTtl = ttl;
  }

  markServed(): void {
    if (this.outer) this.outer.served = true;
  }

  report(hit: ReportedHit): Promise<void> | void {
    if (this.outer) this.outer.served = true;
    if (hit.stale) this.stats.onStale();
    else this.stats.onHit();
    // Nothing to await when no detection scope listens: a hit then costs no extra promise.
    const detect = this.detect;
    if (!detect) return;
    const served = hit.key ?? this.key;
    // Known without a command of its own (the strategy's figure, the TTL read with the value, or a memory backend's
    // expiry): no promise per hit.
    const now =
      hit.remaining ?? (served === this.expireKey ? this.expireTtl : undefined) ?? this.cache.expireNow?.(served);
    if (now !== undefined) return this.record(detect, hit, served, now);
    return this.cache.getExpire(served).then((ttl) => this.record(detect, hit, served, ttl));
  }

  private record(detect: DetectScope, hit: ReportedHit, key: string, ttl: number): void {
    const full = hit.lifetime ?? this.layer.definition.traits(this.options).ttl;
    const age = full !== undefined && ttl >= 0 ? Math.max(0, full - ttl) : undefined;
    // Handed the scope by the adapter (a route's own layer): the hit served the response itself.
    detectContext.report(detect, recordedHit(hit, key, ttl, age), this.invocation.detect === detect);
  }

  background(work: () => Promise<unknown>): void {
    this.inBackground = true;
    const { hooks, invocation } = this;
    let started: Promise<unknown>;
    try {
      started = work();
    } catch (error) {
      // Thrown before it returned its promise: a failure of the background task, never of the caller's call.
      started = Promise.reject(error);
    }
    const task = started.then(
      // A streamed result nobody reads (a background refresh) is read here, so that it is recorded and stored.
      (result) => (result instanceof Recording ? result.drain() : undefined),
      (error: unknown) => hooks.onBackgroundError(invocation.target, error),
    );
    if (hooks.trackBackground) hooks.trackBackground(invocation.target, task);
    else trackProcessWide(task);
  }

  reportLimit(info: LimitInfo): void {
    if (!info.allowed) this.stats.onRejected();
    this.invocation.onLimit?.(info);
  }

  reportCircuit(state: CircuitState, check: boolean): void {
    this.stats.onCircuit(state, check);
  }

  reportRejection(): void {
    this.stats.onRejected();
  }

  reportProblem(kind: string, message: string, severity?: ProblemSeverity): void {
    this.hooks.onLayerProblem?.(this.layer, this.invocation.target, kind, message, severity);
  }

  reportEvent(message: string): void {
    this.hooks.onLayerEvent?.(this.layer, this.invocation.target, message);
  }
}

type ReportedHit = Parameters<StrategyCall['report']>[0];

/**
 * The hit as a detection scope records it: what the strategy reported, less `lifetime` and `remaining`, with the
 * served key, its remaining TTL and, when known, its age.
 */
function recordedHit(hit: ReportedHit, key: string, ttl: number, age: number | undefined): CacheHit {
  // A spread when there is nothing to leave out (a plain hit): object rest (`{ lifetime, ...rest }`) costs about fifty
  // times as much, a noticeable part of a detected hit.
  if (!('lifetime' in hit) && !('remaining' in hit)) {
    return age === undefined ? { ...hit, key, ttl } : { ...hit, key, ttl, age };
  }
  const { lifetime, remaining, ...reported } = hit;
  return age === undefined ? { ...reported, key, ttl } : { ...reported, key, ttl, age };
}

/** The report a run below hands on: marking it marks the strategy's own `run` and the run this call belongs to. */
function linked(run: RunReport | undefined, outer: RunReport | undefined): RunReport | undefined {
  if (!run || !outer) return run ?? outer;
  return {
    get served() {
      return run.served;
    },
    set served(value) {
      run.served = outer.served = value;
    },
  };
}

/** Runs what is below a layer, counting the run, its failure or its duration (misses only: hits never get here). */
async function measure(stats: LayerObserver, next: Next, background: boolean): Promise<unknown> {
  stats.onRun(background);
  const started = performance.now();
  try {
    const result = await next();
    stats.onSuccess(performance.now() - started);
    return result;
  } catch (error) {
    stats.onError();
    throw error;
  }
}
