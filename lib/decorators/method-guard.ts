import { Logger } from '@nestjs/common';

/**
 * Makes a decorator that did nothing say so. A strategy decorator replaces the method with a thin guard that
 * calls the original. Where the decorators are applied, the guard is never reached on the hot path:
 * the explorer calls the original of each provider it wrapped, and marks the methods of every controller it
 * saw (their handlers run through the interceptor) as routed, so their guard costs one flag check. Any other
 * call reaching a guard is on an instance the explorers did not decorate at bootstrap: at its first such call the
 * explorers alive in the process are asked whether their application holds it now (a provider of a module loaded
 * later with `LazyModuleLoader`); the one that does decorates it, and the call runs decorated, as every later one
 * does without reaching the guard. An instance nobody holds is remembered (asked about once) and runs undecorated:
 * the first such call of each method warns, naming `Class.method` and the fix.
 */

type Method = (...args: unknown[]) => unknown;

interface GuardState {
  /** Routed (a controller the explorer saw): nothing to check. */
  ok: boolean;
  /** Said once for this method: calls on instances nobody decorates run undecorated without a word. */
  warned: boolean;
  readonly target: string;
  readonly strategies: string[];
}

const originals = new WeakMap<object, Method>();
const states = new WeakMap<object, GuardState>();
/** Provider instances whose decorated methods the explorer wrapped. */
const applied = new WeakSet<object>();
/** Classes the explorer saw as request-scoped providers (their decorators are not applied). */
const requestScoped = new WeakSet<object>();
/** Instances no explorer holds (`new MyService()`, a request-scoped instance): never asked about again. */
const unheld = new WeakSet<object>();

/** An application's explorer, as a guard asks it about an instance it reached (see {@link adopt}). */
export interface InstanceHolder {
  /**
   * Decorates `instance` when the application holds it as a provider (or a transient provider's instance) and it has
   * decorated methods: `'applied'`. `'creating'` while Nest is still constructing an instance of a provider of that
   * class (a call from its constructor); `undefined` when the application does not hold it.
   * @throws CashewsConfigError as at bootstrap, when its decorators cannot apply (the call fails with it).
   */
  adopt(instance: object): 'applied' | 'creating' | undefined;
}
/** The explorers of the initialized applications in the process, until they close. */
const holders = new Set<InstanceHolder>();
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
  const guard = function (this: unknown, ...args: unknown[]): unknown {
    if (!state.ok) {
      const decorated = reached(state, this, guard, propertyKey);
      if (decorated) return decorated.apply(this, args);
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

/** A provider instance whose decorated methods the explorer replaced. */
export function markApplied(instance: object): void {
  applied.add(instance);
}

/** A request-scoped provider class, for the message of a later call. */
export function markRequestScoped(type: object): void {
  requestScoped.add(type);
}

/** An initialized application's explorer: asked about the instances guards reach, until {@link dropHolder}. */
export function addHolder(holder: InstanceHolder): void {
  holders.add(holder);
}

/** Its application closed. */
export function dropHolder(holder: InstanceHolder): void {
  holders.delete(holder);
}

/**
 * A guard reached on `self`: the method to run instead when an explorer decorated `self` just now (what the call was
 * made to, now the instance's own decorated method), else undefined (the original runs, said once when undecorated).
 */
function reached(state: GuardState, self: unknown, guard: Method, key: string | symbol): Method | undefined {
  if (typeof self !== 'object' || self === null) return void notApplied(state, self, false);
  // Called through another wrapper by the explorer's own wrapper: applied after all.
  if (applied.has(self)) return undefined;
  if (unheld.has(self)) return void notApplied(state, self, false);
  const own = self as Record<string | symbol, unknown>;
  // `instance.method()`, not `super.method()` from an override or another wrapper calling the guard.
  const direct = own[key] === guard;
  const outcome = adopt(self);
  if (outcome === 'applied') return direct && own[key] !== guard ? (own[key] as Method) : undefined;
  notApplied(state, self, outcome === 'creating');
  return undefined;
}

/** Asks the explorers whether one holds `self`, once per instance (remembered when none does). */
function adopt(self: object): 'applied' | 'creating' | undefined {
  // A request-scoped provider's instances (one per request) are never the explorers': not searched for each.
  let creating = false;
  if (!requestScoped.has(self.constructor)) {
    for (const holder of holders) {
      const outcome = holder.adopt(self);
      if (outcome === 'applied') return outcome;
      creating ||= outcome === 'creating';
    }
  }
  // Not remembered while Nest is creating it: its next call, once Nest holds it, is decorated.
  if (creating) return 'creating';
  unheld.add(self);
  return undefined;
}

function notApplied(state: GuardState, self: unknown, creating: boolean): void {
  if (state.warned) return;
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
      'before calling it. (Or CashewsModule is imported only by a module loaded with LazyModuleLoader, where Nest ' +
      'initializes nothing: import CashewsModule.forRoot(url) in the root module.)';
  } else if (!explorerRan) {
    reason =
      'CashewsModule is not imported in this application. Fix: import CashewsModule.forRoot(url) in the root module.';
  } else if (creating) {
    reason =
      'it was called while Nest was creating it (from its constructor, in a module loaded with LazyModuleLoader), ' +
      'before the instance could be decorated; its later calls are. Fix: call it once the module is loaded.';
  } else if (type && requestScoped.has(type)) {
    reason =
      'its class is a request-scoped provider (or depends on one), which cashews does not wrap. ' +
      'Fix: move the method to a singleton provider.';
  } else {
    reason =
      'the instance is held by no application as a provider (e.g. created with `new` or moduleRef.create(), or its ' +
      "class in no module's providers). Fix: register the class as a provider of a module and inject it.";
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
