import { createCache } from '../create-cache.js';
import type { CacheService } from '../cache.service.js';
import { engineOf } from '../engine/engine-of.js';
import { execute, type ExecutorHooks, type Layer } from './executor.js';
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
});
