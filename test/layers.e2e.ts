/**
 * Layers are data and observation is an interface (issue #10): a decorator's layer is frozen once built (also
 * `@Invalidate`'s, which used to patch `usesRequest` afterwards), each strategy describes its options through a
 * typed definition, and the executor reports what it sees to any `ExecutionObserver` (the statistics collector is
 * one), asking it for a per-layer handle on every call. Runs on mem:// and Redis.
 */
import { engineOf } from '../lib/engine/engine-of.js';
import 'reflect-metadata';
import { Cache, CacheService, CircuitBreaker, createCache, Invalidate } from '../lib/index.js';
import { getLayers } from '../lib/decorators/strategy-metadata.js';
import { keyHead } from '../lib/keys/key-template.js';
import { execute, type ExecutorHooks } from '../lib/strategies/executor.js';
import type { Layer } from '../lib/strategies/layer.js';
import type { ExecutionObserver, LayerObserver } from '../lib/strategies/observer.js';
import { redisUrl } from './support/redis.js';

class Catalog {
  @Cache({ ttl: '1m', key: 'catalog:{id}', etag: true })
  async find(id: string): Promise<string> {
    return `item ${id}`;
  }

  @Invalidate('catalog:{req.params.id}')
  async drop(id: string): Promise<string> {
    return id;
  }

  @Invalidate('catalog:{id}')
  async remove(id: string): Promise<string> {
    return id;
  }

  @CircuitBreaker({ errorsRate: 50, minCalls: 2, period: '10s', ttl: '5s', halfOpenTtl: '1s' })
  async guarded(): Promise<string> {
    return 'ok';
  }
}

function layerOf(method: unknown): Layer {
  const layers = getLayers(method);
  if (!layers?.[0]) throw new Error('method has no layer');
  return layers[0];
}

/** Records every report, per layer, and how often a handle was asked for. */
class Recorder implements ExecutionObserver {
  readonly events: string[] = [];
  readonly handles = new Map<Layer, LayerObserver>();
  asked = 0;
  options: unknown[] = [];

  observe<O>(layer: Layer<O>, options: O): LayerObserver {
    this.asked++;
    this.options.push(options);
    let handle = this.handles.get(layer as Layer);
    if (!handle) {
      const log = (event: string) => this.events.push(`${layer.strategy}:${event}`);
      handle = {
        onCall: () => log('call'),
        onHit: () => log('hit'),
        onStale: () => log('stale'),
        onRun: (background) => log(background ? 'refresh' : 'run'),
        onSuccess: () => log('success'),
        onError: () => log('error'),
        onRejected: () => log('rejected'),
        onCircuit: (state, check) => log(`circuit-${state.state}-${check ? 'check' : 'after'}`),
      };
      this.handles.set(layer as Layer, handle);
    }
    return handle;
  }
}

describe('layers', () => {
  it('are frozen once built, @Invalidate included', () => {
    const find = layerOf(Catalog.prototype.find);
    const drop = layerOf(Catalog.prototype.drop);
    expect(Object.isFrozen(find)).toBe(true);
    expect(Object.isFrozen(drop)).toBe(true);
    expect(() => {
      (find as { storesResult: boolean }).storesResult = false;
    }).toThrow(TypeError);
    expect(find.storesResult).toBe(true);
  });

  it('@Invalidate marks a pattern reading {req.…} as request-bound, and only that one', () => {
    expect(layerOf(Catalog.prototype.drop).usesRequest).toBe(true);
    expect(layerOf(Catalog.prototype.remove).usesRequest).toBe(false);
  });

  it('describe their options through the strategy definition (TTL, ETag, half-open window)', () => {
    const find = layerOf(Catalog.prototype.find);
    expect(find.definition.name).toBe('cache');
    expect(find.definition.storesResult).toBe(true);
    expect(find.definition.traits(find.options)).toEqual({ ttl: 60_000, etag: true });
    const guarded = layerOf(Catalog.prototype.guarded);
    expect(guarded.definition.storesResult).toBe(false);
    expect(guarded.definition.traits(guarded.options)).toEqual({ halfOpenTtl: 1_000 });
    expect(layerOf(Catalog.prototype.remove).definition.traits(undefined as never)).toEqual({});
  });

  it('default keys of providers, routes and protective decorators share one head', () => {
    expect(keyHead({ prefix: 'shop', base: 'Catalog:find', version: '3' })).toBe('shop:Catalog:find:v3');
    expect(keyHead({ base: 'Catalog:find' })).toBe('Catalog:find');
    expect(keyHead({ prefix: '', base: 'Catalog:find' })).toBe('Catalog:find');
  });
});

describe.each([
  ['mem://', () => 'mem://'],
  ['redis', () => redisUrl()!],
])('the executor reports to an ExecutionObserver (%s)', (_name, url) => {
  let cache: CacheService;
  let recorder: Recorder;
  let hooks: ExecutorHooks;

  beforeEach(async () => {
    cache = await createCache(url(), { safe: false });
    await cache.clear();
    recorder = new Recorder();
    // The instance as the executor sees it, with the recorder in place of its statistics collector.
    const observed = new Proxy(engineOf(cache), {
      get: (target, prop) => (prop === 'observer' ? recorder : Reflect.get(target, prop)),
    });
    hooks = { cacheFor: () => observed, onBackgroundError: () => undefined };
  });
  afterEach(() => cache.close());

  it('a miss runs and succeeds, a hit is a hit; one handle per layer, asked for on every call', async () => {
    let runs = 0;
    const layers = getLayers(Catalog.prototype.find)!;
    const method = () => Promise.resolve(`item ${++runs}`);
    const call = () => execute(layers, { target: 'Catalog.find', source: { args: ['7'] } }, hooks, method);
    await expect(call()).resolves.toBe('item 1');
    await expect(call()).resolves.toBe('item 1');
    expect(runs).toBe(1);
    expect(recorder.events).toEqual(['cache:call', 'cache:run', 'cache:success', 'cache:call', 'cache:hit']);
    expect(recorder.asked).toBe(2);
    expect(recorder.handles.size).toBe(1);
    // The observer gets the options the layer runs with (the instance-resolved ones), not a raw option bag.
    expect(recorder.options[0]).toMatchObject({ ttl: 60_000, etag: true });
  });

  it('a failure below the layer is an error, and circuit steps are reported with their state', async () => {
    const layers = getLayers(Catalog.prototype.guarded)!;
    const fail = () =>
      execute(layers, { target: 'Catalog.guarded', source: { args: [] } }, hooks, () =>
        Promise.reject(new Error('down')),
      );
    await expect(fail()).rejects.toThrow('down');
    expect(recorder.events).toEqual([
      'circuit-breaker:call',
      'circuit-breaker:circuit-closed-check',
      'circuit-breaker:run',
      'circuit-breaker:error',
      'circuit-breaker:circuit-closed-after',
    ]);
  });
});
