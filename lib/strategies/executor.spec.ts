import { createCache } from '../create-cache.js';
import type { CacheService } from '../cache.service.js';
import { engineOf } from '../engine/engine-of.js';
import { execute, prepareExecution, type ExecutorHooks, type Layer } from './executor.js';
import { NO_OBSERVER, type ExecutionObserver, type LayerObserver } from './observer.js';
import { defineStrategy } from './layer.js';
import type { Strategy } from './strategy.js';

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
});
