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
  /** The method's name where the decorators were put (the name an override of it has too). */
  readonly key: string | symbol;
  readonly strategies: string[];
}

const originals = new WeakMap<object, Method>();
const states = new WeakMap<object, GuardState>();
/** What the explorer put on one provider instance whose decorated methods it wrapped. */
interface Applied {
  /** By method name: what the wrapper calls (a guard's original, or a foreign wrapper over the guard) and the wrapper. */
  readonly byName: Map<string | symbol, { readonly calls: Method; readonly wrapper: Method }>;
  /** What each wrapper calls → the wrapper (for a guard installed under another name than it was declared with). */
  readonly byCalls: Map<Method, Method>;
}
/**
 * Per wrapped instance, its wrappers. A guard reached on such an instance with its own original there was taken as a
 * reference before the instance was wrapped (see the guard); one reached under a name the explorer did not decorate
 * there runs undecorated and warns.
 */
const wrappers = new WeakMap<object, Applied>();
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
    key: propertyKey,
    strategies: [strategy],
  };
  const guard = function (this: unknown, ...args: unknown[]) {
    if (!state.ok) {
      const applied = typeof this === 'object' && this !== null ? wrappers.get(this) : undefined;
      const own = applied?.byName.get(state.key);
      if (own) {
        // A reference taken before the explorer wrapped this instance (`readonly load = this.find.bind(this)`, a
        // DataLoader's batch function made in the constructor, a lazily loaded provider's constructor): the
        // prototype's guard, bound. The instance is wrapped now, so the call runs as `this.find(…)` would. The
        // explorer's own wrapper never comes back here for this original (it calls the original itself), so this
        // cannot recurse. Any other original: reached below the wrapper of this name (through a decorator above
        // ours that the wrapper calls, or a base method through super from a decorated override), applied.
        if (own.calls === method) return own.wrapper.apply(this, args);
        return method.apply(this, args);
      }
      // The guard installed on the class under another name than it was declared with, bound before the wrapping.
      const renamed = applied?.byCalls.get(method);
      if (renamed) return renamed.apply(this, args);
      if (!state.warned) notApplied(state, this, applied !== undefined);
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
 * A provider instance whose decorated methods the explorer replaced: `decorated` maps each name it decorated to what
 * its wrapper calls (the guard's original, or a foreign wrapper over the guard) and the wrapper now on the instance.
 */
export function markApplied(
  instance: object,
  decorated: ReadonlyMap<string, { calls: Method; wrapper: Method }>,
): void {
  let applied = wrappers.get(instance);
  if (!applied) {
    applied = { byName: new Map(), byCalls: new Map() };
    wrappers.set(instance, applied);
  }
  // An instance a second application wraps again (one object given to both with useValue) keeps the first entries:
  // the second wrapper calls the first, so a reference bound before either still runs decorated.
  for (const [name, entry] of decorated) {
    if (!applied.byName.has(name)) applied.byName.set(name, entry);
    if (!applied.byCalls.has(entry.calls)) applied.byCalls.set(entry.calls, entry.wrapper);
  }
}

/** A request-scoped provider class, for the message of a later call. */
export function markRequestScoped(type: object): void {
  requestScoped.add(type);
}

function notApplied(state: GuardState, self: unknown, otherMethodsApplied: boolean): void {
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
  } else if (otherMethodsApplied) {
    const own = `${(type as { name?: string } | undefined)?.name ?? 'the class'}.${String(state.key)}`;
    reason =
      `the instance's ${own} is not this method and carries no decorators cashews can see: an override without ` +
      'them (reaching this one through super), or a method decorator written above them that does not copy their ' +
      `metadata. Fix: put the decorators on ${own}, or write them above the decorator that hides them.`;
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
