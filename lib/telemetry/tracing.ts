import { CashewsConfigError } from '../errors.js';
import type { Layer } from '../strategies/layer.js';
import type { ExecutionObserver, LayerObserver } from '../strategies/observer.js';

/** The part of `@opentelemetry/api`'s span used here. */
export interface SpanLike {
  isRecording(): boolean;
  setAttribute(key: string, value: string): unknown;
  addEvent(name: string, attributes: Readonly<Record<string, string>>): unknown;
}

/** The part of `@opentelemetry/api` used here: the span of the current context. */
export interface TraceApiLike {
  trace: { getActiveSpan(): SpanLike | undefined };
}

/** `tracing` option: `auto` (the default) traces when `@opentelemetry/api` is installed, `on` requires it. */
export type TracingMode = 'auto' | 'on' | 'off';

type Importer = () => Promise<unknown>;

function isTraceApi(api: unknown): api is TraceApiLike {
  const trace = (api as { trace?: { getActiveSpan?: unknown } } | undefined)?.trace;
  return typeof trace?.getActiveSpan === 'function';
}

/**
 * `import('@opentelemetry/api')` for an instance created with `tracing` other than `off`: `undefined` when the
 * optional peer is not installed and the mode is `auto`, {@link CashewsConfigError} when it is `on`.
 */
export async function loadTraceApi(
  mode: TracingMode,
  importer: Importer = () => import('@opentelemetry/api'),
): Promise<TraceApiLike | undefined> {
  if (mode === 'off') return undefined;
  let api: unknown;
  try {
    api = await importer();
  } catch (error) {
    if (mode === 'auto') return undefined;
    throw new CashewsConfigError(
      'tracing=on needs the optional peer dependency @opentelemetry/api: npm install @opentelemetry/api ' +
        '(or tracing=auto to trace only when it is installed, tracing=off never).',
      { cause: error },
    );
  }
  // An ES module namespace of a CommonJS build may hold the API under `default`.
  const found = isTraceApi(api) ? api : (api as { default?: unknown } | undefined)?.default;
  if (isTraceApi(found)) return found;
  if (mode === 'auto') return undefined;
  throw new CashewsConfigError('tracing=on: @opentelemetry/api was found but has no trace.getActiveSpan().');
}

/**
 * Where every copy of `@opentelemetry/api` 1.x keeps what was registered globally (`context.setGlobalContextManager`
 * puts the context manager there, under `context`; `context.disable()` takes it away).
 */
const API_1_REGISTRY = Symbol.for('opentelemetry.js.api.1');

type GlobalRegistry = Record<symbol, { context?: unknown } | undefined>;

/** Per API object: whether it reads its registrations from {@link API_1_REGISTRY} (see {@link readsApi1Registry}). */
const watchable = new WeakMap<TraceApiLike, boolean>();

/**
 * Whether `api` finds its context manager under {@link API_1_REGISTRY}: watched once, by reading for the active span
 * while that slot reports being read (the slot is put back as it was, its value untouched). Then, whenever the slot
 * holds no context manager, the API's answer is known without asking: its root context, which holds no span. An API
 * that does not read the slot (another major version), or a slot that cannot be watched, is asked on every call.
 */
export function readsApi1Registry(api: TraceApiLike): boolean {
  const known = watchable.get(api);
  if (known !== undefined) return known;
  const global = globalThis as unknown as GlobalRegistry;
  const before = Object.getOwnPropertyDescriptor(global, API_1_REGISTRY);
  let read = false;
  // Reflect.defineProperty answers false where Object.defineProperty throws: a global object that takes no new
  // property (Object.preventExtensions, as hardened environments leave it) is a slot that cannot be watched.
  const watching =
    (before === undefined || before.configurable === true) &&
    Reflect.defineProperty(global, API_1_REGISTRY, {
      configurable: true,
      get: () => {
        read = true;
        return before?.get ? (before.get.call(global) as unknown) : before?.value;
      },
    });
  if (watching) {
    try {
      api.trace.getActiveSpan();
    } catch {
      read = false; // an API that fails here is asked every time, and fails there as it would have
    } finally {
      if (before) Object.defineProperty(global, API_1_REGISTRY, before);
      else delete global[API_1_REGISTRY];
    }
  }
  watchable.set(api, read);
  return read;
}

/** What a layer's call came to, as span events name it (`cashews.hit`, …). */
type Outcome = 'hit' | 'stale' | 'miss' | 'run' | 'error' | 'rejected';

/**
 * Reports every decorated call's outcome on the caller's active span, when there is one and it records:
 * - an event per layer reached, `cashews.<outcome>` (`hit`, `stale`, `miss`, `run` for a layer that does not store,
 *   `error`, `rejected`), with the strategy, the method and the cache instance;
 * - the attributes `cashews.strategy` and `cashews.result` of the last layer that reported (the innermost reached).
 * Keys are never attached: a key template may render user data (a token's claim, an e-mail).
 * Without an active recording span a report costs one context read and nothing is allocated; while no context manager
 * is registered (the API installed, no SDK started), not even that (see {@link readsApi1Registry}): the API's own
 * lookup of the active span cost about 60 ns, 8% of a decorated memory hit here.
 */
export class TracingObserver implements ExecutionObserver {
  private readonly layers = new WeakMap<Layer, LayerObserver>();
  private readonly watched: boolean;

  constructor(
    private readonly api: TraceApiLike,
    private readonly cacheName: string,
  ) {
    this.watched = readsApi1Registry(api);
  }

  observe<O>(layer: Layer<O>): LayerObserver {
    let observer = this.layers.get(layer as Layer);
    if (!observer) {
      observer = this.forLayer(layer as Layer);
      this.layers.set(layer as Layer, observer);
    }
    return observer;
  }

  private forLayer(layer: Layer): LayerObserver {
    const { api, watched } = this;
    const global = globalThis as unknown as GlobalRegistry;
    const attributes = Object.freeze({
      'cashews.strategy': layer.strategy,
      'cashews.method': layer.base,
      'cashews.cache': layer.cacheName ?? this.cacheName,
    });
    const report = (outcome: Outcome): void => {
      // No context manager registered: no span can be active.
      if (watched && global[API_1_REGISTRY]?.context === undefined) return;
      const span = api.trace.getActiveSpan();
      if (!span?.isRecording()) return;
      span.addEvent(`cashews.${outcome}`, attributes);
      span.setAttribute('cashews.strategy', layer.strategy);
      span.setAttribute('cashews.result', outcome);
    };
    const ran = layer.storesResult ? 'miss' : 'run';
    return {
      onCall() {},
      onHit: () => report('hit'),
      onStale: () => report('stale'),
      onRun: (background) => {
        // A background refresh is not this caller's outcome: the caller was served a value already.
        if (!background) report(ran);
      },
      onSuccess() {},
      onError: () => report('error'),
      onRejected: () => report('rejected'),
      // An open circuit refusing the call is a rejection; other circuit steps are not an outcome of their own.
      onCircuit: (state, check) => {
        if (check && !state.allowed) report('rejected');
      },
    };
  }
}
