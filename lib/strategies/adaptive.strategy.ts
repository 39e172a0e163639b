import { formatMs, RULES } from '../adaptive/decide.js';
import { FleetLink } from '../adaptive/fleet.js';
import { instanceOf, wallClock, type PerInstance } from '../adaptive/registry.js';
import { AdaptiveTuner } from '../adaptive/tuner.js';
import type { AdaptiveBounds, AdaptiveDecision } from '../adaptive/types.js';
import type { CircuitState } from '../backends/protect-types.js';
import { directionOf } from '../detect/directed-cache.js';
import { CircuitOpenError } from '../errors.js';
import { MISS, PENDING } from '../miss.js';
import { Recording } from '../streams/recording.js';
import { cacheStrategy, type CacheStrategyOptions } from './cache.strategy.js';
import { circuitBreakerStrategy, type CircuitBreakerStrategyOptions } from './circuit-breaker.strategy.js';
import { earlyStrategy, type EarlyStrategyOptions } from './early.strategy.js';
import { failoverStrategy, type FailoverStrategyOptions } from './failover.strategy.js';
import { agedCache, freshEntry, type PrimedRead } from './aged-cache.js';
import { fromStored, settle } from './cached-errors.js';
import { defineStrategy, type StrategyDefinition } from './layer.js';
import { SuffixedKeys } from '../keys/suffixed-keys.js';
import {
  errorName,
  matchesExceptions,
  type ExceptionsOption,
  type LimitInfo,
  type Next,
  type ProblemSeverity,
  type RunReport,
  type Strategy,
  type StrategyCache,
  type StrategyCall,
} from './strategy.js';

/** `@Adaptive` options once validated (see the decorator). */
export interface AdaptiveStrategyOptions {
  readonly bounds: AdaptiveBounds;
  /**
   * Prefix of the method's own keys (`<prefix>:Class:method:adaptive`): its circuit, one per method as
   * `@CircuitBreaker`'s default key, and the fleet's observations and decision.
   */
  readonly namespace: string;
  /** Share observations and decisions with every process on the backend (see lib/adaptive/fleet.ts). */
  readonly fleet: boolean;
  /**
   * Errors that count as failures and fall back to the last good value. Default: any error (the in-process fallback
   * excepts client errors, see `fallsBackInProcess`).
   */
  readonly exceptions?: ExceptionsOption;
  /** Keys tracked per method at most. */
  readonly sampleSize: number;
  /** The layer's state per cache instance (made by the decorator, one per layer). */
  readonly sites: PerInstance<AdaptiveSite>;
}

/**
 * What a layer keeps on one cache instance: its tuner, and the plan of the decision it answered last, so that a call
 * under an unchanged decision looks up no plan (see {@link planOf}).
 */
export interface AdaptiveSite {
  readonly tuner: AdaptiveTuner;
  /** The {@link cachedKey} of recent calls, as the same strings each time (the hit path's). */
  readonly cachedKeys: SuffixedKeys;
  decision?: AdaptiveDecision;
  plan?: Plan;
}

/** The options of the strategies a decision delegates to, built once per decision. */
interface Plan {
  readonly cache?: CacheStrategyOptions;
  readonly early?: EarlyStrategyOptions;
  readonly failover?: FailoverStrategyOptions;
  readonly circuit?: CircuitBreakerStrategyOptions;
  /**
   * The cache as the cache or early strategy sees it, per cache object: entries with their write time, read under
   * this decision's TTL (see aged-cache.ts). One per cache object, so that what strategies keep per cache (streams
   * being recorded) is shared by its calls.
   */
  readonly aged: WeakMap<StrategyCache, StrategyCache>;
}

const plans = new WeakMap<AdaptiveDecision, Plan>();

/**
 * Keys of the delegated strategies: the call's key with `:%adaptive` (cached results), `:%early` or `:%failover`, which
 * no call's own key can be (an argument never renders as `%` and a lower-case letter; see
 * lib/keys/escape-key-part.ts). Cached results are not stored under the call's own key: a plain `@Cache` given the
 * same explicit key never reads an `@Adaptive` envelope as its value, nor `@Adaptive` a value of its as an envelope.
 */
const CACHED = ':%adaptive';
const EARLY = ':%early';
const FAILOVER = ':%failover';

/** A hit as the statistics see it (see {@link answerFresh}). */
const PLAIN_HIT = Object.freeze({ strategy: 'cache' });

/**
 * The key of a call's cached result, and the key the tuner knows the call by (its key sampler and the last good
 * results kept in process). One string for both: a hit looks it up in the sampler's table and then reads it from
 * the backend, and V8 keeps a string's hash with the string, so the read does not hash a second key. (The sampler
 * keyed by the call's own key cost a second hash, about an eighth of a hit on memory.) A hit takes it from its site's
 * `cachedKeys`, which answers the same string for a repeated call, hashed once.
 */
function cachedKey(key: string): string {
  return key + CACHED;
}

/**
 * What a decision runs, outermost first, as the same decorators stacked by hand would: `@Failover` (the last good
 * value, kept while anything is stored or failures are watched) over `@Cache` or `@Early` over `@CircuitBreaker`. A
 * hit never reaches the circuit; an open circuit's fast failure falls back to the last good value. A cached
 * decision's hit does not reach the failover layer either (see `cachedCall`).
 */
function planOf(decision: AdaptiveDecision, options: AdaptiveStrategyOptions): Plan {
  let plan = plans.get(decision);
  if (plan) return plan;
  const { bounds, exceptions } = options;
  const { ttl } = decision;
  const stampede = { lock: false, lockTtl: Math.min(ttl, 30_000), step: 25 };
  const fallback = decision.guard !== 'none' || decision.store !== 'none';
  plan = {
    cache: decision.store === 'cache' ? { ttl, ...stampede } : undefined,
    early:
      decision.store === 'early'
        ? { ttl, ...stampede, refreshAfter: decision.refreshAfter, background: true }
        : undefined,
    failover: fallback
      ? {
          ttl: bounds.maxStaleness,
          exceptions: (error: unknown) => error instanceof CircuitOpenError || matchesExceptions(exceptions, error),
        }
      : undefined,
    circuit:
      decision.guard === 'circuit'
        ? {
            errorsRate: RULES.circuitEnter * 100,
            period: bounds.window,
            ttl: bounds.window,
            minCalls: 10,
            halfOpenTtl: Math.max(1, Math.floor(bounds.window / 2)),
            exceptions,
          }
        : undefined,
    aged: new WeakMap(),
  };
  plans.set(decision, plan);
  return plan;
}

/** The cache under `plan`'s TTL (see {@link Plan.aged}). */
function agedFor(plan: Plan, decision: AdaptiveDecision, cache: StrategyCache): StrategyCache {
  let aged = plan.aged.get(cache);
  if (!aged) {
    const refreshAfter = decision.store === 'early' ? decision.refreshAfter : undefined;
    plan.aged.set(cache, (aged = agedCache(cache, { ttl: decision.ttl, refreshAfter })));
  }
  return aged;
}

/**
 * A call as a delegated strategy sees it: its own key, and the report of the run of the strategy above it (a value
 * served here marks that run, so the strategy above does not store it, as between stacked layers). Everything else
 * goes to the layer's call: hits, stale values and circuit steps count in the layer's statistics.
 */
class DelegatedCall implements StrategyCall, PrimedRead {
  readonly target: string;
  readonly args: readonly unknown[];
  readonly source: StrategyCall['source'];
  /** What is left of the TTL of the entry last read through the aged cache, for the age of the hit reported next. */
  private noted?: { readonly key: string; readonly left: number };

  constructor(
    private readonly parent: StrategyCall,
    readonly key: string,
    private readonly run: RunReport | undefined,
    /** TTL of the entries this strategy serves, for the age detection reports. */
    private readonly lifetime: number | undefined,
    /** What the hit path read under `key` already: the strategy's first read (see aged-cache.ts). */
    private read?: { readonly raw: unknown },
  ) {
    this.target = parent.target;
    this.args = parent.args;
    this.source = parent.source;
  }

  takeRead(key: string): { readonly raw: unknown } | undefined {
    const read = key === this.key ? this.read : undefined;
    this.read = undefined;
    return read;
  }

  /** Read with the value by the aged cache (aged-cache.ts): never asked of the backend, whose expiry may be older. */
  noteExpire(key: string, ttl: number): void {
    this.noted = { key, left: ttl };
  }

  report(hit: Parameters<StrategyCall['report']>[0]): Promise<void> | void {
    if (this.run) this.run.served = true;
    const key = hit.key ?? this.key;
    const lifetime = hit.lifetime ?? this.lifetime;
    const remaining = hit.remaining ?? (this.noted?.key === key ? this.noted.left : undefined);
    return this.parent.report({
      ...hit,
      key,
      ...(lifetime === undefined ? {} : { lifetime }),
      ...(remaining === undefined ? {} : { remaining }),
    });
  }

  markServed(): void {
    if (this.run) this.run.served = true;
    this.parent.markServed?.();
  }

  background(work: () => Promise<unknown>): void {
    this.parent.background(work);
  }

  reportLimit(info: LimitInfo): void {
    this.parent.reportLimit?.(info);
  }

  reportCircuit(state: CircuitState, check: boolean): void {
    this.parent.reportCircuit?.(state, check);
  }

  reportRejection(): void {
    this.parent.reportRejection?.();
  }

  reportProblem(kind: string, message: string, severity?: ProblemSeverity): void {
    this.parent.reportProblem?.(kind, message, severity);
  }
}

/** One delegated strategy in the chain: `strategy` run under `key` with `options`, over `next`. */
function delegate<O>(
  strategy: Strategy<O>,
  call: StrategyCall,
  key: string,
  options: O,
  lifetime: number | undefined,
  cache: StrategyCache,
  next: Next,
  read?: { readonly raw: unknown },
): Next {
  return (run) => strategy(new DelegatedCall(call, key, run, lifetime, read), options, cache, next);
}

/** The run-time switch (`cache.disabling`) and the transactions of the cache instance, read through a strategy's cache. */
interface Switched {
  readonly runtime?: { offFor(op: string): boolean };
  readonly transactions?: { active(): boolean };
}

/**
 * Whether the last good result kept in process for `call`, `age` ms old, may answer it: exactly when `@Failover`'s read
 * of its entry would. Not when reads are switched off (`cache.disabling(['get'])`) or the request says
 * `Cache-Control: no-cache`/`no-store`; not when older than its `max-age`; `Clear-Site-Data: "cache"` forgets it.
 */
function mayServeKept(cache: StrategyCache, tuner: AdaptiveTuner, key: string, age: number): boolean {
  if ((cache as Switched).runtime?.offFor('get')) return false;
  const directives = directionOf(cache)?.directives;
  if (!directives) return true;
  if (directives.clearSiteData) {
    tuner.forget(key);
    return false;
  }
  if (directives.noCache || directives.noStore) return false;
  return directives.maxAge === undefined || age <= directives.maxAge;
}

/**
 * Whether a run's result may be kept in process: when `@Failover` would store it. Not when writes are switched off
 * (`cache.disabling(['set'])`) or the request says `Cache-Control: no-store`; nor inside a caller's transaction, whose
 * writes a rollback discards (the process keeps no result it cannot undo).
 */
function mayKeep(cache: StrategyCache): boolean {
  const { runtime, transactions } = cache as Switched;
  if (runtime?.offFor('set') || transactions?.active()) return false;
  return directionOf(cache)?.directives.noStore !== true;
}

/**
 * Whether `error` is a client error: an HTTP exception (Nest's `HttpException`, told by its `getStatus()`, without
 * importing Nest here) with a 4xx status. A `NotFoundException` is an answer about the request, not an outage.
 */
function isClientError(error: unknown): boolean {
  const getStatus = (error as { getStatus?: unknown } | null)?.getStatus;
  if (typeof getStatus !== 'function') return false;
  try {
    const status = (getStatus as () => unknown).call(error);
    return typeof status === 'number' && status >= 400 && status <= 499;
  } catch {
    return false; // not an HTTP exception after all: the original error is what the caller gets
  }
}

/**
 * Whether the last good result kept in process may answer `error`: the errors `exceptions` names; without it, any
 * error but a client error (see {@link isClientError}). The in-process fallback is on for every method, healthy or
 * not: answering a `NotFoundException` or a `ForbiddenException` with the previous value would hide the answer.
 */
function fallsBackInProcess(exceptions: ExceptionsOption | undefined, error: unknown): boolean {
  return exceptions ? matchesExceptions(exceptions, error) : !isClientError(error);
}

/**
 * A failure that no delegated layer answered (the fallback in the backend was off, or held nothing for the key): the
 * last good result this process kept for the key (lib/adaptive/last-good.ts), at most `maxStaleness` old and as the
 * request's directives allow (see {@link mayServeKept}), or the error.
 */
async function lastGoodOrThrow(
  call: StrategyCall,
  options: AdaptiveStrategyOptions,
  cache: StrategyCache,
  tuner: AdaptiveTuner,
  error: unknown,
): Promise<unknown> {
  if (!(error instanceof CircuitOpenError) && !fallsBackInProcess(options.exceptions, error)) throw error;
  const tracked = cachedKey(call.key);
  const kept = tuner.lastGoodOf(tracked);
  if (!kept || !mayServeKept(cache, tuner, tracked, kept.age)) throw error;
  const lifetime = options.bounds.maxStaleness;
  await call.report({
    strategy: 'failover',
    stale: true,
    exception: errorName(error),
    lifetime,
    remaining: Math.max(0, lifetime - kept.age),
  });
  return kept.value;
}

/** Results the tuner cannot compare (a recorded stream): counted as runs, not as change observations. */
const UNCOMPARABLE = Symbol('uncomparable');

/** A decision change, in words, for the log. */
export function describeDecision(decision: AdaptiveDecision): string {
  const store =
    decision.store === 'none'
      ? 'no cache'
      : decision.store === 'early'
        ? `early refresh (ttl ${formatMs(decision.ttl)}, refresh after ${formatMs(decision.refreshAfter)})`
        : `cache (ttl ${formatMs(decision.ttl)})`;
  const guard =
    decision.guard === 'none' ? '' : decision.guard === 'failover' ? ' + failover' : ' + failover + circuit breaker';
  return `${store}${guard}`;
}

function reportChange(call: StrategyCall, tuner: AdaptiveTuner): void {
  const change = tuner.takeChange();
  if (!change || !call.reportEvent) return;
  const { previous, decision, shared } = change;
  call.reportEvent(
    `now ${describeDecision(decision)}, was ${describeDecision(previous)}${shared ? ' (fleet decision)' : ''}: ` +
      `${decision.reason}.`,
  );
}

/**
 * Observes every call (its key, and for runs of the method their duration, outcome and a digest of the result) and
 * runs it under the method's current decision by delegating to the cache, early, failover and circuit-breaker
 * strategies. See lib/adaptive/decide.ts for the rules.
 */
export const adaptiveStrategy: Strategy<AdaptiveStrategyOptions> = (call, options, cache, next) => {
  const instance = instanceOf(cache);
  const site = options.sites.find(instance) ?? newSite(instance, options);
  const tuner = site.tuner;
  const stored = site.cachedKeys.of(call.key);
  // One clock read for the tuner and the hit's freshness (the tuner's clock is wallClock, see newSite).
  const now = wallClock.now();
  const decision = tuner.onCall(stored, now);
  reportChange(call, tuner);
  if (site.decision !== decision) {
    site.plan = planOf(decision, options);
    site.decision = decision;
  }
  const plan = site.plan as Plan;
  const link = tuner.sink;
  const due = link instanceof FleetLink && link.due;
  // The hit path of a cached decision: a fresh entry answers at once, without the delegated layers (a hit has no
  // failure to fall back from, no run to observe). Anything else runs the chain, which takes this read as its own.
  if (plan.cache && !due) return cachedCall(call, stored, now, options, cache, next, tuner, decision, plan);
  const answer = runPlan(call, options, cache, next, tuner, decision, plan, undefined);
  if (!due) return answer;
  // A window closed: exchanged with the fleet once the call has answered (a background task, waited for at
  // shutdown; started later, it does not count the call's own run as a background refresh). Outside the caller's
  // transaction and past the caller's request directives: the fleet's counters and decision are the method's
  // bookkeeping, not the caller's writes, so a rollback must not undo them nor a commit hold them back, and a
  // `no-cache` or `Clear-Site-Data` request must not read them as zeros or delete them.
  const fleet = directionOf(cache)?.undirected ?? cache;
  const share = () =>
    call.background(() =>
      fleet.outsideTransaction(async () => {
        try {
          const state = await (link as FleetLink).exchange(fleet, wallClock.now());
          if (state) tuner.adopt(state.tuner);
        } catch (error) {
          // The backend is down (safe mode answers reads, but counters fail): decide here until it is back, said once.
          tuner.decideAlone();
          const why = error instanceof Error ? error.message : String(error);
          call.reportProblem?.(
            'fleet',
            `fleet sharing failed (${why}); this process decides from its own calls until the backend answers again.`,
          );
        }
      }),
    );
  return answer.finally(share);
};

/** The layer's state on `instance`, at its first call there (no closure made on the calls after it). */
function newSite(instance: object, options: AdaptiveStrategyOptions): AdaptiveSite {
  return options.sites.ensure(instance, () => {
    const link = options.fleet ? new FleetLink(options.namespace, options.bounds) : undefined;
    const tuner = new AdaptiveTuner({
      bounds: options.bounds,
      clock: wallClock,
      sampleSize: options.sampleSize,
      sink: link,
    });
    return { tuner, cachedKeys: new SuffixedKeys(CACHED) };
  });
}

/**
 * A call under a cached decision: a fresh entry answers (reported with its real age), anything else runs the chain.
 * `stored`: the call's {@link cachedKey}; `now`: the time of the call.
 */
function cachedCall(
  call: StrategyCall,
  stored: string,
  now: number,
  options: AdaptiveStrategyOptions,
  cache: StrategyCache,
  next: Next,
  tuner: AdaptiveTuner,
  decision: AdaptiveDecision,
  plan: Plan,
): Promise<unknown> {
  // An entry known without waiting (memory) is answered without a promise hop of its own, as `@Cache` answers it.
  const raw = cache.readNow ? cache.readNow(stored) : PENDING;
  if (raw === PENDING) return readThenAnswer(call, stored, options, cache, next, tuner, decision, plan);
  try {
    const hit = answerFresh(call, stored, decision, raw, now);
    return hit === MISS ? runPlan(call, options, cache, next, tuner, decision, plan, { raw }) : hit;
  } catch (error) {
    return Promise.reject(error);
  }
}

async function readThenAnswer(
  call: StrategyCall,
  stored: string,
  options: AdaptiveStrategyOptions,
  cache: StrategyCache,
  next: Next,
  tuner: AdaptiveTuner,
  decision: AdaptiveDecision,
  plan: Plan,
): Promise<unknown> {
  let raw: unknown;
  try {
    raw = await cache.read(stored);
  } catch {
    // The chain reads again, and a failure there is answered as any failure of the chain is.
    return runPlan(call, options, cache, next, tuner, decision, plan, undefined);
  }
  const hit = answerFresh(call, stored, decision, raw, wallClock.now());
  return hit === MISS ? runPlan(call, options, cache, next, tuner, decision, plan, { raw }) : hit;
}

/**
 * The answer of a cached decision whose entry `stored` read `raw`, when that entry is fresh at `now`; {@link MISS}
 * when the chain must run (it then takes `raw` as its own read).
 */
function answerFresh(
  call: StrategyCall,
  stored: string,
  decision: AdaptiveDecision,
  raw: unknown,
  now: number,
): Promise<unknown> | typeof MISS {
  // Read as the chain's aged cache reads it (aged-cache.ts): the same entries are fresh on both paths.
  const fresh = freshEntry(raw, decision.ttl, now);
  const value = fresh === MISS ? MISS : fromStored(undefined, fresh.entry.v);
  if (value === MISS || fresh === MISS) return MISS;
  // Its key, lifetime and what is left of it matter only to a detection scope: without one, nothing is built per hit.
  const reported = call.report(
    call.wantsExpire ? { strategy: 'cache', key: stored, lifetime: decision.ttl, remaining: fresh.left } : PLAIN_HIT,
  );
  return reported ? reported.then(() => settle(value)) : Promise.resolve(settle(value));
}

/**
 * Runs a call under `plan`, outermost first as the same decorators stacked by hand would: the last good value in
 * the backend (`@Failover`) over `@Cache` or `@Early` over `@CircuitBreaker` over the method, observed; a failure
 * nothing answered falls back on the last good result kept in process. `read`: the entry the hit path already read.
 */
function runPlan(
  call: StrategyCall,
  options: AdaptiveStrategyOptions,
  cache: StrategyCache,
  next: Next,
  tuner: AdaptiveTuner,
  decision: AdaptiveDecision,
  plan: Plan,
  read: { readonly raw: unknown } | undefined,
): Promise<unknown> {
  const observed: Next = async (run) => {
    const started = performance.now();
    let result: unknown;
    try {
      result = await next(run);
    } catch (error) {
      // A stored error a layer below re-threw is not a failure of the method.
      if (!run?.served && matchesExceptions(options.exceptions, error)) {
        tuner.onFailure();
        reportChange(call, tuner);
      }
      throw error;
    }
    // Served by a layer below (stacked decorators): not a run of the method.
    if (!run?.served) {
      const observed = result instanceof Recording ? UNCOMPARABLE : result;
      tuner.onSuccess(cachedKey(call.key), observed, performance.now() - started, mayKeep(cache));
    }
    return result;
  };
  let chain = observed;
  if (plan.circuit)
    chain = delegate(circuitBreakerStrategy, call, options.namespace, plan.circuit, undefined, cache, chain);
  if (plan.cache) {
    const aged = agedFor(plan, decision, cache);
    chain = delegate(cacheStrategy, call, cachedKey(call.key), plan.cache, decision.ttl, aged, chain, read);
  } else if (plan.early) {
    const aged = agedFor(plan, decision, cache);
    chain = delegate(earlyStrategy, call, call.key + EARLY, plan.early, decision.ttl, aged, chain);
  }
  if (plan.failover) {
    const { failover } = plan;
    chain = delegate(failoverStrategy, call, call.key + FAILOVER, failover, failover.ttl as number, cache, chain);
  }
  // A report of its own even when nothing is delegated: a layer stacked below that serves marks it, and that answer
  // is then not observed as a run of the method.
  return chain({}).catch((error: unknown) => lastGoodOrThrow(call, options, cache, tuner, error));
}

/** `adaptive` layers: store results (TTL decided per method at run time, so no fixed TTL trait). */
export const adaptiveDefinition: StrategyDefinition<AdaptiveStrategyOptions> = defineStrategy<AdaptiveStrategyOptions>({
  name: 'adaptive',
  run: adaptiveStrategy,
  storesResult: true,
  derivedKeys: [CACHED, EARLY, FAILOVER],
  forget: (options, instance, key) => options.sites.find(instance)?.tuner.forget(cachedKey(key)),
  traits: (options) => ({
    adaptive: (instance: object) => options.sites.find(instance)?.tuner.snapshot(),
  }),
});
