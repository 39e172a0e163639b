import { createCache } from '../create-cache.js';
import type { CacheService } from '../cache.service.js';
import { engineOf } from '../engine/engine-of.js';
import { execute, prepareExecution, type ExecutorHooks, type Layer } from './executor.js';
import { NO_OBSERVER, type ExecutionObserver, type LayerObserver } from './observer.js';
import { defineStrategy } from './layer.js';
import type { Strategy } from './strategy.js';
import { cacheDefinition, type CacheStrategyOptions } from './cache.strategy.js';

/** A layer built by hand around `run`, keyed `Ex:k`. */
function layerOf(run: Strategy<object>): Layer {
  const definition = defineStrategy<object>({ name: 'ex', run, storesResult: false });
  return {
    strategy: 'ex',
    run,
    definition,
    options: {},
    base: 'Ex:method',
    key: () => 'Ex:k',
    hasTemplate: true,
    storesResult: false,
    usesRequest: false,
  } as Layer;
}

describe('execute (mem://)', () => {
  let cache: CacheService;
  beforeEach(async () => {
    cache = await createCache('mem://');
  });
  afterEach(() => cache.close());

  it('a background task that throws before its promise is reported as a background error: the call still answers', async () => {
    const errors: unknown[] = [];
    const hooks: ExecutorHooks = {
      cacheFor: () => engineOf(cache),
      onBackgroundError: (_target, error) => errors.push(error),
    };
    const layer = layerOf(async (call, _options, _cache, next) => {
      call.background(() => {
        throw new Error('thrown synchronously');
      });
      return next();
    });
    const invocation = { target: 'Ex.method', source: { args: [] } };
    await expect(execute([layer], invocation, hooks, async () => 'answer')).resolves.toBe('answer');
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toEqual([expect.objectContaining({ message: 'thrown synchronously' })]);
  });

  it('a prepared method resolves its instance once, and reports to the observer the instance has at each call', async () => {
    const engine = engineOf(cache);
    let resolved = 0;
    const hooks: ExecutorHooks = {
      cacheFor: () => (resolved++, engine),
      onBackgroundError: () => undefined,
    };
    const seen: string[] = [];
    const observer = (name: string): ExecutionObserver => ({
      observe: (): LayerObserver => ({ ...NO_OBSERVER, onCall: () => void seen.push(name) }),
    });
    const layer = layerOf((_call, _options, _cache, next) => next());
    const run = prepareExecution([layer], hooks);
    const invocation = { target: 'Ex.method', source: { args: [] } };
    const before = engine.observer;
    try {
      engine.observer = observer('first');
      await expect(run(invocation, async () => 1)).resolves.toBe(1);
      await run(invocation, async () => 2);
      engine.observer = observer('second');
      await expect(run(invocation, async () => 3)).resolves.toBe(3);
    } finally {
      engine.observer = before;
    }
    expect(resolved).toBe(1);
    expect(seen).toEqual(['first', 'first', 'second']);
  });

  it('a cache layer hit known without waiting is answered by the executor: counted once, the strategy not called', async () => {
    const engine = engineOf(cache);
    const counts = { call: 0, hit: 0, run: 0 };
    const observer: ExecutionObserver = {
      observe: (): LayerObserver => ({
        ...NO_OBSERVER,
        onCall: () => void counts.call++,
        onHit: () => void counts.hit++,
        onRun: () => void counts.run++,
      }),
    };
    let strategyCalls = 0;
    const options: CacheStrategyOptions = { ttl: 60_000, lock: false, lockTtl: 10_000, step: 50 };
    const fromRead = cacheDefinition.fromRead as NonNullable<typeof cacheDefinition.fromRead>;
    const definition = {
      ...cacheDefinition,
      run: ((...args) => (strategyCalls++, cacheDefinition.run(...args))) as Strategy<CacheStrategyOptions>,
      fromRead: ((...args) => (strategyCalls++, fromRead(...args))) as typeof fromRead,
    };
    const layer = { ...layerOf(definition.run as Strategy<object>), definition, options, storesResult: true } as Layer;
    const hooks: ExecutorHooks = { cacheFor: () => engine, onBackgroundError: () => undefined };
    const invocation = { target: 'Ex.method', source: { args: [] } };
    const before = engine.observer;
    const reads = () => cache.stats().backends[0];
    try {
      engine.observer = observer;
      const run = prepareExecution([layer], hooks);
      await expect(run(invocation, async () => ({ n: 1 }))).resolves.toEqual({ n: 1 });
      expect(strategyCalls).toBe(1); // the miss: the strategy ran the method, from the executor's own read
      const afterMiss = reads();
      await expect(run(invocation, async () => ({ n: 2 }))).resolves.toEqual({ n: 1 });
      expect(strategyCalls).toBe(1);
      expect(counts).toEqual({ call: 2, hit: 1, run: 1 });
      // One read per call, the miss's included: the executor's read is the strategy's.
      expect(afterMiss).toMatchObject({ hits: 0, misses: 1 });
      expect(reads()).toMatchObject({ hits: 1, misses: 1 });
    } finally {
      engine.observer = before;
    }
  });
});
