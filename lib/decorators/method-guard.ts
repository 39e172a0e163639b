import { Logger } from '@nestjs/common';

/**
 * Makes a decorator that did nothing say so. A strategy decorator replaces the method with a thin guard that
 * calls the original. Where the decorators are applied, the guard is never reached on the hot path:
 * the explorer calls the original of each provider it wrapped, and marks the methods of every controller it
 * saw (their handlers run through the interceptor) as routed, so their guard costs one flag check. A guard reached
 * on an instance the explorer wrapped, with that instance's wrapper calling the guard's own original, is a reference
 * taken before the wrapping (bound in a constructor): it runs the wrapper. Any other call reaching a guard means the
 * decorators are not applied: it warns once, naming `Class.method` and the fix.
 */

type Method = (...args: unknown[]) => unknown;

interface GuardState {
  /** Routed (a controller the explorer saw): nothing to check. */
  ok: boolean;
  /** Said once already that the decorators are not applied. */
  warned: boolean;
  readonly target: string;
  readonly strategies: string[];
}

const originals = new WeakMap<object, Method>();
const states = new WeakMap<object, GuardState>();
/** Provider instances whose decorated methods the explorer wrapped. */
const applied = new WeakSet<object>();
/**
 * Per wrapped instance: the method each of its wrappers calls (a guard's original) → the wrapper the explorer put on
 * the instance. A guard reached on such an instance with its own original there was taken as a reference before the
 * instance was wrapped (see the guard).
 */
const wrappers = new WeakMap<object, Map<Method, Method>>();
/** Classes the explorer saw as request-scoped providers (their decorators are not applied). */
const requestScoped = new WeakSet<object>();
let explorerRan = false;
/** Explorers created (an application with CashewsModule compiled) whose `onModuleInit` has not run yet. */
let explorersWaiting = 0;
const logger = new Logger('Cashews');

/** The method a guard stands for (any other value is returned as is). */
export function originalMethod<T>(method: T): T {
  return ((typeof method === 'function' && originals.get(method)) || method) as T;
}

/**
 * Returns the guard to install for `method` (the same guard when it already is one, for stacked decorators).
 * Metadata other decorators set on the original (route path, HTTP method...) is copied onto the guard.
 */
export function guardMethod(owner: { name: string }, propertyKey: string | symbol, method: Method, strategy: string) {
  const existing = states.get(method);
  if (existing) {
    existing.strategies.unshift(strategy);
    return method;
  }
  const state: GuardState = {
    ok: false,
    warned: false,
    target: `${owner.name}.${String(propertyKey)}`,
    strategies: [strategy],
  };
  const guard = function (this: unknown, ...args: unknown[]) {
    if (!state.ok) {
      // A reference taken before the explorer wrapped this instance (`readonly load = this.find.bind(this)`, a
      // DataLoader's batch function made in the constructor, a lazily loaded provider's constructor): the prototype's
      // guard, bound. The instance is wrapped now, so the call runs as `this.find(…)` would. The explorer's own
      // wrapper never comes back here for this original (it calls the original itself), so this cannot recurse.
      const wrapped = typeof this === 'object' && this !== null ? wrappers.get(this)?.get(method) : undefined;
      if (wrapped) return wrapped.apply(this, args);
      if (!state.warned) notApplied(state, this);
    }
    return method.apply(this, args);
  };
  Object.defineProperty(guard, 'name', { value: method.name });
  Object.defineProperty(guard, 'length', { value: method.length });
  for (const key of Reflect.getOwnMetadataKeys(method)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, method), guard);
  }
  originals.set(guard, method);
  states.set(guard, state);
  return guard;
}

/** An explorer was created: an application importing `CashewsModule` was compiled (not initialized yet). */
export function noteExplorerCreated(): void {
  explorersWaiting++;
}

/** The explorer ran in this process (so `CashewsModule` is imported somewhere). */
export function noteExplorerRan(): void {
  explorerRan = true;
  if (explorersWaiting > 0) explorersWaiting--;
}

/** A controller method: its decorators run through the interceptor, its guard need not check anything. */
export function markRouted(method: unknown): void {
  const state = typeof method === 'function' ? states.get(method) : undefined;
  if (state) state.ok = true;
}

/**
 * A provider instance whose decorated methods the explorer replaced: `decorated` maps the method each wrapper calls
 * (the guard's original, or a foreign wrapper over the guard) to the wrapper now on the instance.
 */
export function markApplied(instance: object, decorated: ReadonlyMap<Method, Method>): void {
  applied.add(instance);
  wrappers.set(instance, new Map(decorated));
}

/** A request-scoped provider class, for the message of a later call. */
export function markRequestScoped(type: object): void {
  requestScoped.add(type);
}

function notApplied(state: GuardState, self: unknown): void {
  // Called through another wrapper by the explorer's own wrapper: applied after all.
  if (typeof self === 'object' && self !== null && applied.has(self)) return;
  state.warned = true;
  const decorators = state.strategies.map(decoratorName).join(', ');
  const type = typeof self === 'object' && self !== null ? (self as object).constructor : undefined;
  let reason: string;
  // Nest's testing logger prints errors only: `compile()` without `init()` is the test set-up `nest new` writes.
  const notInitialized = !explorerRan && explorersWaiting > 0;
  if (notInitialized) {
    reason =
      'the application (or testing module) was compiled but not initialized, and decorators are applied when it ' +
      'initializes. Fix: await app.init() (or moduleRef.init() after Test.createTestingModule(...).compile()) ' +
      'before calling it.';
  } else if (!explorerRan) {
    reason =
      'CashewsModule is not imported in this application. Fix: import CashewsModule.forRoot(url) in the root module.';
  } else if (type && requestScoped.has(type)) {
    reason =
      'its class is a request-scoped provider (or depends on one), which cashews does not wrap. ' +
      'Fix: move the method to a singleton provider.';
  } else {
    reason =
      'the instance was not created by Nest as a provider or controller (e.g. created with `new`, or its class in ' +
      "no module's providers), or it was called before LazyModuleLoader.load() returned its module (from its " +
      'constructor or a factory), whose providers are decorated when load() returns. Fix: register the class as a ' +
      'provider and inject it, and call decorated methods after start-up or after load() returned.';
  }
  const message = `${state.target} was called without its decorators (${decorators}) applied: ${reason}`;
  if (notInitialized) logger.error(message);
  else logger.warn(message);
}

/** `'rate-limit'` → `@RateLimit` (`'hit'` is `@HitCache`). */
function decoratorName(strategy: string): string {
  if (strategy === 'hit') return '@HitCache';
  return `@${strategy.replace(/(^|-)([a-z])/g, (_, __: string, c: string) => c.toUpperCase())}`;
}
