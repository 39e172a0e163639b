/**
 * The interceptor on non-HTTP execution contexts. `@nestjs/microservices` and `@nestjs/graphql` are not
 * dependencies, so the contexts are built with Nest's own ExecutionContextHost, as those packages do:
 * RPC handlers get `[payload, ctx]`, GraphQL resolvers `[root, args, ctx, info]`, WebSocket gateway handlers
 * `[client, data]` (the key used the client, a socket, until the 'ws' context read the data).
 */
import 'reflect-metadata';
import { jest } from '@jest/globals';
import { Controller, Logger, type INestApplicationContext } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { Test } from '@nestjs/testing';
import { lastValueFrom, of } from 'rxjs';
import { CacheResolver } from '../../lib/cache-resolver.js';
import { Cache, CacheService, CashewsInterceptor, CashewsModule } from '../../lib/index.js';

@Controller()
class OrdersHandler {
  // Never called: the interceptor's CallHandler stands in for the handler.
  @Cache({ ttl: '1m', key: 'order:{0.id}' })
  order(payload: { id: number }): unknown {
    return payload;
  }

  @Cache({ ttl: '1m' })
  byDefaultKey(payload: { id: number }): unknown {
    return payload;
  }
}

describe.each(['rpc', 'graphql', 'ws'] as const)('CashewsInterceptor on a %s context', (type) => {
  let app: INestApplicationContext;
  let interceptor: CashewsInterceptor;
  let cache: CacheService;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [CashewsModule.forRoot('mem://')] }).compile();
    app = await moduleRef.init();
    interceptor = new CashewsInterceptor(app.get(CacheResolver, { strict: false }));
    cache = app.get(CacheService);
  });
  afterEach(() => app.close());

  /** Runs one call through the interceptor, counting how often the handler itself ran. */
  async function call(method: 'order' | 'byDefaultKey', payload: { id: number }, runs: { count: number }) {
    // A socket refers to itself (as a Socket.IO client does through its server): it can key nothing.
    const client: Record<string, unknown> = { id: 'socket-1' };
    client.self = client;
    const args =
      type === 'rpc' ? [payload, { pattern: 'orders' }] : type === 'ws' ? [client, payload] : [{}, payload, {}, {}];
    const context = new ExecutionContextHost(args, OrdersHandler, OrdersHandler.prototype[method]);
    context.setType(type);
    const handler = { handle: () => (runs.count++, of({ id: payload.id, run: runs.count })) };
    return lastValueFrom(interceptor.intercept(context, handler));
  }

  it('caches by a {0.…} template over the payload / GraphQL args', async () => {
    const runs = { count: 0 };
    await expect(call('order', { id: 7 }, runs)).resolves.toEqual({ id: 7, run: 1 });
    await expect(call('order', { id: 7 }, runs)).resolves.toEqual({ id: 7, run: 1 });
    await expect(call('order', { id: 8 }, runs)).resolves.toEqual({ id: 8, run: 2 });
    expect(runs.count).toBe(2);
    await expect(cache.get('order:7')).resolves.toEqual({ id: 7, run: 1 });
  });

  it('the default key renders the payload, so different payloads are different entries', async () => {
    const runs = { count: 0 };
    await call('byDefaultKey', { id: 1 }, runs);
    await call('byDefaultKey', { id: 1 }, runs);
    await call('byDefaultKey', { id: 2 }, runs);
    expect(runs.count).toBe(2);
  });
});

@Controller()
class PostsResolver {
  // Never called: the interceptor's CallHandler stands in for the resolver.
  @Cache({ ttl: '1m' })
  postsByDefaultKey(): unknown {
    return [];
  }

  @Cache({ ttl: '1m', key: 'posts:{0.page}' })
  postsByTemplate(args: { page: number }): unknown {
    return args;
  }
}

// A field resolver's default key named only its args: user 2 was served user 1's posts.
describe('CashewsInterceptor on a GraphQL field resolver (a parent in argument 0)', () => {
  let app: INestApplicationContext;
  let interceptor: CashewsInterceptor;
  const warnings: string[] = [];

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [CashewsModule.forRoot('mem://')] }).compile();
    app = await moduleRef.init();
    interceptor = new CashewsInterceptor(app.get(CacheResolver, { strict: false }));
    warnings.length = 0;
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await app.close();
  });

  async function resolve(method: 'postsByDefaultKey' | 'postsByTemplate', userId: number, runs: { count: number }) {
    const context = new ExecutionContextHost(
      [{ id: userId, name: `user ${userId}` }, { page: 1 }, {}, {}],
      PostsResolver,
      PostsResolver.prototype[method],
    );
    context.setType('graphql');
    const handler = { handle: () => (runs.count++, of({ of: userId, run: runs.count })) };
    return lastValueFrom(interceptor.intercept(context, handler));
  }

  it("a default key steps aside, said once: no parent is answered with another parent's result", async () => {
    const runs = { count: 0 };
    await expect(resolve('postsByDefaultKey', 1, runs)).resolves.toEqual({ of: 1, run: 1 });
    await expect(resolve('postsByDefaultKey', 2, runs)).resolves.toEqual({ of: 2, run: 2 });
    await expect(resolve('postsByDefaultKey', 2, runs)).resolves.toEqual({ of: 2, run: 3 });
    expect(warnings.filter((line) => /field resolver.*keyed by the parent/.test(line))).toHaveLength(1);
  });

  it('a key template is the key as written: it still runs (the template is what the application chose)', async () => {
    const runs = { count: 0 };
    await resolve('postsByTemplate', 1, runs);
    await resolve('postsByTemplate', 2, runs);
    expect(runs.count).toBe(1);
    expect(warnings).toEqual([]);
  });
});
