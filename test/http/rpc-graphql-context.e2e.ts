/**
 * The interceptor on non-HTTP execution contexts, on handlers decorated with the real parameter decorators of
 * `@nestjs/graphql`, `@nestjs/microservices` and `@nestjs/websockets` (dev dependencies: only their metadata is
 * used, no server runs). Contexts are built with Nest's own ExecutionContextHost, as those packages do: RPC handlers
 * get `[payload, ctx]`, GraphQL resolvers `[root, args, ctx, info]`, WebSocket gateway handlers `[client, data]`.
 * A key's placeholders name what the handler's parameters receive there, as Nest fills them.
 */
import 'reflect-metadata';
import { jest } from '@jest/globals';
import { Controller, Injectable, Logger, type INestApplicationContext } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { Args, Context, Info, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Test } from '@nestjs/testing';
import { lastValueFrom, of } from 'rxjs';
import {
  Cache,
  CashewsConfigError,
  CashewsModule,
  type CacheService,
  type CashewsInterceptor,
} from '../../lib/index.js';
import { started } from './handler-calls.js';

type ContextType = 'rpc' | 'graphql' | 'ws';
type Order = { id: number };
type Handler = (...args: never[]) => unknown;

// Never called: the interceptor's CallHandler stands in for each handler.
@Controller()
class OrdersController {
  @Cache({ ttl: '1m', key: 'order:{0.id}' })
  order(@Payload() payload: Order): unknown {
    return payload;
  }

  @Cache({ ttl: '1m' })
  byDefaultKey(@Payload() payload: Order, @Ctx() ctx: unknown): unknown {
    return [payload, ctx];
  }
}

@Resolver('Order')
class OrdersResolver {
  @Cache({ ttl: '1m', key: 'order:{0.id}' })
  @Query()
  order(@Args() args: Order): unknown {
    return args;
  }

  @Cache({ ttl: '1m' })
  @Query()
  byDefaultKey(@Args() args: Order, @Context() ctx: unknown, @Info() info: unknown): unknown {
    return [args, ctx, info];
  }
}

@WebSocketGateway()
class OrdersGateway {
  @Cache({ ttl: '1m', key: 'order:{0.id}' })
  @SubscribeMessage('order')
  order(@MessageBody() data: Order): unknown {
    return data;
  }

  @Cache({ ttl: '1m' })
  @SubscribeMessage('byDefaultKey')
  byDefaultKey(@ConnectedSocket() client: unknown, @MessageBody() data: Order): unknown {
    return [client, data];
  }
}

const HANDLERS = { rpc: OrdersController, graphql: OrdersResolver, ws: OrdersGateway } as const;

/** A socket refers to itself (as a Socket.IO client does through its server): no key can render it. */
function socket(id: string): Record<string, unknown> {
  const client: Record<string, unknown> = { id };
  client.self = client;
  return client;
}

/** The context's arguments for `data` (the payload, the GraphQL args, the message), each call with its own context. */
function contextArgs(type: ContextType, data: unknown, root: unknown = {}): unknown[] {
  if (type === 'rpc') return [data, { pattern: 'orders', id: Math.random() }];
  if (type === 'ws') return [socket(`socket-${Math.random()}`), data];
  return [root, data, { req: { id: Math.random() } }, { fieldName: 'order' }];
}

/** Runs one call through the interceptor, counting how often the handler itself ran; it answers `answer`. */
function intercept(
  interceptor: CashewsInterceptor,
  type: ContextType,
  owner: object,
  handler: Handler,
  args: unknown[],
  runs: { count: number },
  answer: (run: number) => unknown,
) {
  const context = new ExecutionContextHost(args, owner as never, handler as never);
  context.setType(type);
  const next = { handle: () => (runs.count++, of(answer(runs.count))) };
  return lastValueFrom(interceptor.intercept(context, next));
}

describe.each(['rpc', 'graphql', 'ws'] as const)('CashewsInterceptor on a %s context', (type) => {
  let app: INestApplicationContext;
  let interceptor: CashewsInterceptor;
  let cache: CacheService;

  beforeEach(async () => ({ app, interceptor, cache } = await started()));
  afterEach(() => app.close());

  function call(method: 'order' | 'byDefaultKey', payload: Order, runs: { count: number }) {
    const owner = HANDLERS[type];
    const handler = (owner.prototype as unknown as Record<string, Handler>)[method];
    return intercept(interceptor, type, owner, handler, contextArgs(type, payload), runs, (run) => ({
      id: payload.id,
      run,
    }));
  }

  // {0} is the handler's first parameter: here the payload, the GraphQL args and the message body, as documented before.
  it('caches by a {0.…} template over the parameter bound to the payload / GraphQL args / message body', async () => {
    const runs = { count: 0 };
    await expect(call('order', { id: 7 }, runs)).resolves.toEqual({ id: 7, run: 1 });
    await expect(call('order', { id: 7 }, runs)).resolves.toEqual({ id: 7, run: 1 });
    await expect(call('order', { id: 8 }, runs)).resolves.toEqual({ id: 8, run: 2 });
    expect(runs.count).toBe(2);
    await expect(cache.get('order:7')).resolves.toEqual({ id: 7, run: 1 });
  });

  // The RPC context, GraphQL context and info and the client socket differ on every call: the default key leaves
  // them out, so equal payloads share an entry and different payloads are different entries.
  it('the default key renders the payload without the context or the socket', async () => {
    const runs = { count: 0 };
    await call('byDefaultKey', { id: 1 }, runs);
    await call('byDefaultKey', { id: 1 }, runs);
    await call('byDefaultKey', { id: 2 }, runs);
    expect(runs.count).toBe(2);
  });
});

@Resolver('User')
class FriendsResolver {
  /** The README's example: the parent is argument 0 of the call, the GraphQL args argument 1. */
  @Cache({ ttl: '1m', key: 'friendship:{user.id}' })
  @ResolveField()
  friendship(@Parent() user: { id: number }, @Args('id') otherId: string): unknown {
    return [user, otherId];
  }

  /** `{otherId}` by the parameter's name, `{id}` by the argument's. */
  @Cache({ ttl: '1m', key: 'pair:{user.id}:{otherId}:{id}' })
  @ResolveField()
  pair(@Parent() user: { id: number }, @Args('id') otherId: string): unknown {
    return [user, otherId];
  }

  @Cache({ ttl: '1m' })
  @ResolveField()
  postsByDefaultKey(@Parent() user: { id: number }, @Args() args: { page: number }): unknown {
    return [user, args];
  }

  @Cache({ ttl: '1m', key: 'me:{ctx.user.id}' })
  @Query()
  me(@Context() ctx: { user: { id: number } }): unknown {
    return ctx;
  }

  @Cache({ ttl: '1m', key: 'field:{info.fieldName}:{id}' })
  @Query()
  byField(@Args('id') id: string, @Info() info: { fieldName: string }): unknown {
    return [id, info];
  }
}

@Injectable()
class UserByIdResolver {
  /** `@Args('id')` alone: `{id}` is the argument, by the decorator's name or the parameter's. */
  @Cache({ ttl: '1m', key: 'user:{id}' })
  @Query()
  user(@Args('id') id: string): unknown {
    return id;
  }

  @Cache({ ttl: '1m', key: 'profile:{userId}' })
  @Query()
  profile(@Args('id') userId: string): unknown {
    return userId;
  }

  /** A schema-first resolver without parameter decorators receives `(parent, args, context, info)`. */
  @Cache({ ttl: '1m', key: 'posts:{parent.id}:{args.page}' })
  @ResolveField()
  posts(parent: { id: number }, args: { page: number }): unknown {
    return [parent, args];
  }
}

describe('CashewsInterceptor on GraphQL resolvers: keys name what each parameter receives', () => {
  let app: INestApplicationContext;
  let interceptor: CashewsInterceptor;
  let cache: CacheService;
  const warnings: string[] = [];
  const errors: string[] = [];

  beforeEach(async () => {
    ({ app, interceptor, cache } = await started());
    warnings.length = 0;
    errors.length = 0;
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
    jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => void errors.push(String(message)));
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await app.close();
  });

  function resolve(owner: object, method: string, parent: unknown, args: unknown, runs: { count: number }) {
    const handler = (owner as { prototype: Record<string, Handler> }).prototype[method];
    const context = [parent, args, { req: {} }, { fieldName: method }];
    return intercept(interceptor, 'graphql', owner, handler, context, runs, (run) => ({ parent, run }));
  }

  it("friendship(@Parent() user, @Args('id') otherId) with 'friendship:{user.id}' keys by the parent", async () => {
    const runs = { count: 0 };
    const one = { id: 1, name: 'one' };
    const two = { id: 2, name: 'two' };
    await expect(resolve(FriendsResolver, 'friendship', one, { id: '9' }, runs)).resolves.toEqual({
      parent: one,
      run: 1,
    });
    // Same GraphQL args, another parent: its own entry, not user 1's friendship.
    await expect(resolve(FriendsResolver, 'friendship', two, { id: '9' }, runs)).resolves.toEqual({
      parent: two,
      run: 2,
    });
    await expect(resolve(FriendsResolver, 'friendship', one, { id: '9' }, runs)).resolves.toEqual({
      parent: one,
      run: 1,
    });
    await expect(resolve(FriendsResolver, 'friendship', two, { id: '9' }, runs)).resolves.toEqual({
      parent: two,
      run: 2,
    });
    expect(runs.count).toBe(2);
    await expect(cache.get('friendship:1')).resolves.toEqual({ parent: one, run: 1 });
    await expect(cache.get('friendship:2')).resolves.toEqual({ parent: two, run: 2 });
    expect(warnings).toEqual([]);
  });

  it("@Args('id') otherId is {otherId} by the parameter's name and {id} by the argument's", async () => {
    const runs = { count: 0 };
    await resolve(FriendsResolver, 'pair', { id: 1 }, { id: 'u9' }, runs);
    await resolve(FriendsResolver, 'pair', { id: 1 }, { id: 'u9' }, runs);
    expect(runs.count).toBe(1);
    await expect(cache.get('pair:1:u9:u9')).resolves.toEqual({ parent: { id: 1 }, run: 1 });
  });

  it("a query's @Args('id') is the argument itself, by either name", async () => {
    const runs = { count: 0 };
    await resolve(UserByIdResolver, 'user', undefined, { id: 'u7' }, runs);
    await resolve(UserByIdResolver, 'user', undefined, { id: 'u7' }, runs);
    await resolve(UserByIdResolver, 'profile', undefined, { id: 'u7' }, runs);
    expect(runs.count).toBe(2);
    await expect(cache.get('user:u7')).resolves.toEqual({ run: 1 });
    await expect(cache.get('profile:u7')).resolves.toEqual({ run: 2 });
  });

  it('a resolver without parameter decorators is keyed by (parent, args, context, info) as Nest passes them', async () => {
    const runs = { count: 0 };
    await resolve(UserByIdResolver, 'posts', { id: 1 }, { page: 2 }, runs);
    await resolve(UserByIdResolver, 'posts', { id: 2 }, { page: 2 }, runs);
    await resolve(UserByIdResolver, 'posts', { id: 1 }, { page: 2 }, runs);
    expect(runs.count).toBe(2);
    await expect(cache.get('posts:1:2')).resolves.toEqual({ parent: { id: 1 }, run: 1 });
  });

  it('a default key still steps aside on a field resolver, said once, naming the template to write', async () => {
    const runs = { count: 0 };
    await expect(resolve(FriendsResolver, 'postsByDefaultKey', { id: 1 }, { page: 1 }, runs)).resolves.toEqual({
      parent: { id: 1 },
      run: 1,
    });
    await expect(resolve(FriendsResolver, 'postsByDefaultKey', { id: 2 }, { page: 1 }, runs)).resolves.toEqual({
      parent: { id: 2 },
      run: 2,
    });
    await expect(resolve(FriendsResolver, 'postsByDefaultKey', { id: 2 }, { page: 1 }, runs)).resolves.toEqual({
      parent: { id: 2 },
      run: 3,
    });
    const said = warnings.filter((line) => /field resolver/.test(line));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain("Give it a key template naming the parent, e.g. 'posts:{user.id}'");
  });

  it.each([
    ['me', 'ctx', '@Context()'],
    ['byField', 'info', '@Info()'],
  ])(
    'a template naming %s(%s) is refused at the first call, said once, and never rendered',
    async (method, param, decorator) => {
      const runs = { count: 0 };
      const context = { user: { id: 1 } };
      const call = () => {
        const handler = (FriendsResolver.prototype as unknown as Record<string, Handler>)[method];
        const args = [undefined, { id: '1' }, context, { fieldName: 'byField' }];
        return intercept(interceptor, 'graphql', FriendsResolver, handler, args, runs, (run) => run);
      };
      const refused = await call().catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(CashewsConfigError);
      expect((refused as Error).message).toContain(`FriendsResolver.${method}`);
      expect((refused as Error).message).toContain(`parameter ${param}`);
      expect((refused as Error).message).toContain(decorator);
      await expect(call()).rejects.toBeInstanceOf(CashewsConfigError);
      expect(runs.count).toBe(0);
      expect(errors.filter((line) => line.includes(`FriendsResolver.${method}`))).toHaveLength(1);
    },
  );
});

@Controller()
class PaymentsController {
  @Cache({ ttl: '1m', key: 'payment:{data.id}' })
  charge(@Ctx() ctx: unknown, @Payload() data: { id: number }): unknown {
    return [ctx, data];
  }

  @Cache({ ttl: '1m', key: 'refund:{id}' })
  refund(@Payload('id') id: number, @Ctx() ctx: unknown): unknown {
    return [id, ctx];
  }

  @Cache({ ttl: '1m', key: 'channel:{ctx.channel}' })
  byChannel(@Payload() data: unknown, @Ctx() ctx: { channel: string }): unknown {
    return [data, ctx];
  }
}

@Injectable()
class RoomsGateway {
  @Cache({ ttl: '1m', key: 'room:{id}' })
  join(@ConnectedSocket() client: unknown, @MessageBody('id') id: string): unknown {
    return [client, id];
  }

  /** Without parameter decorators Nest passes `(client, data)`. */
  @Cache({ ttl: '1m', key: 'message:{data.id}' })
  message(client: unknown, data: { id: string }): unknown {
    return [client, data];
  }

  @Cache({ ttl: '1m', key: 'client:{client.id}' })
  byClient(@ConnectedSocket() client: { id: string }, @MessageBody() data: unknown): unknown {
    return [client, data];
  }
}

describe('CashewsInterceptor on RPC and WebSocket handlers: keys name what each parameter receives', () => {
  let app: INestApplicationContext;
  let interceptor: CashewsInterceptor;
  let cache: CacheService;
  const errors: string[] = [];

  beforeEach(async () => {
    ({ app, interceptor, cache } = await started());
    errors.length = 0;
    jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => void errors.push(String(message)));
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await app.close();
  });

  function handle(type: 'rpc' | 'ws', owner: object, method: string, data: unknown, runs: { count: number }) {
    const handler = (owner as { prototype: Record<string, Handler> }).prototype[method];
    return intercept(interceptor, type, owner, handler, contextArgs(type, data), runs, (run) => ({ data, run }));
  }

  it('RPC handle(@Ctx() ctx, @Payload() data): {data.id} is the payload, whatever the order', async () => {
    const runs = { count: 0 };
    await handle('rpc', PaymentsController, 'charge', { id: 3 }, runs);
    await handle('rpc', PaymentsController, 'charge', { id: 3 }, runs);
    expect(runs.count).toBe(1);
    await expect(cache.get('payment:3')).resolves.toEqual({ data: { id: 3 }, run: 1 });
  });

  it("RPC @Payload('id') id: {id} is that field", async () => {
    const runs = { count: 0 };
    await handle('rpc', PaymentsController, 'refund', { id: 4, amount: 1 }, runs);
    await handle('rpc', PaymentsController, 'refund', { id: 4, amount: 2 }, runs);
    expect(runs.count).toBe(1);
    await expect(cache.get('refund:4')).resolves.toEqual({ data: { id: 4, amount: 1 }, run: 1 });
  });

  it("WebSocket join(@ConnectedSocket() client, @MessageBody('id') id): {id} is the message's id", async () => {
    const runs = { count: 0 };
    await handle('ws', RoomsGateway, 'join', { id: 'r1' }, runs);
    await handle('ws', RoomsGateway, 'join', { id: 'r1' }, runs);
    expect(runs.count).toBe(1);
    await expect(cache.get('room:r1')).resolves.toEqual({ data: { id: 'r1' }, run: 1 });
  });

  it('a WebSocket handler without parameter decorators is keyed by (client, data) as Nest passes them', async () => {
    const runs = { count: 0 };
    await handle('ws', RoomsGateway, 'message', { id: 'm1' }, runs);
    await handle('ws', RoomsGateway, 'message', { id: 'm1' }, runs);
    expect(runs.count).toBe(1);
    await expect(cache.get('message:m1')).resolves.toEqual({ data: { id: 'm1' }, run: 1 });
  });

  it.each([
    ['RPC @Ctx() ctx', 'rpc', PaymentsController, 'byChannel', 'ctx', '@Ctx()'],
    ['WebSocket @ConnectedSocket() client', 'ws', RoomsGateway, 'byClient', 'client', '@ConnectedSocket()'],
  ] as const)(
    'a template naming %s is refused at the first call, said once',
    async (_, type, owner, method, param, decorator) => {
      const runs = { count: 0 };
      const refused = await handle(type, owner, method, { id: 1 }, runs).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(CashewsConfigError);
      expect((refused as Error).message).toContain(`${owner.name}.${method}`);
      expect((refused as Error).message).toContain(`parameter ${param}`);
      expect((refused as Error).message).toContain(decorator);
      await expect(handle(type, owner, method, { id: 1 }, runs)).rejects.toBeInstanceOf(CashewsConfigError);
      expect(runs.count).toBe(0);
      expect(errors.filter((line) => line.includes(`${owner.name}.${method}`))).toHaveLength(1);
    },
  );
});

@Resolver('User')
class ContextKeyedResolver {
  @Cache({ ttl: '1m', key: 'me:{ctx.req.user.id}' })
  @Query()
  me(@Context() ctx: unknown): unknown {
    return ctx;
  }
}

@WebSocketGateway()
class ClientKeyedGateway {
  @Cache({ ttl: '1m', tags: ['client:{client.id}'] })
  @SubscribeMessage('hello')
  hello(@ConnectedSocket() client: unknown, @MessageBody() data: unknown): unknown {
    return [client, data];
  }
}

@Controller()
class ContextKeyedController {
  @Cache({ ttl: '1m', key: 'rpc:{1.headers}' })
  @MessagePattern('sum')
  sum(@Payload() data: unknown, @Ctx() ctx: unknown): unknown {
    return [data, ctx];
  }
}

describe('Templates naming a context, info or a socket are refused at bootstrap on routed handlers', () => {
  it.each([
    ['a GraphQL @Context()', { providers: [ContextKeyedResolver] }, 'ContextKeyedResolver.me', 'parameter ctx'],
    ['a WebSocket client (in a tag)', { providers: [ClientKeyedGateway] }, 'ClientKeyedGateway.hello', 'client'],
    ['an RPC @Ctx()', { controllers: [ContextKeyedController] }, 'ContextKeyedController.sum', 'argument 1'],
  ])('%s', async (_, metadata, target, param) => {
    const moduleRef = await Test.createTestingModule({
      imports: [CashewsModule.forRoot('mem://')],
      ...metadata,
    }).compile();
    const failure = await moduleRef.init().catch((error: unknown) => error);
    await moduleRef.close().catch(() => undefined);
    expect(failure).toBeInstanceOf(CashewsConfigError);
    expect((failure as Error).message).toContain(target);
    expect((failure as Error).message).toContain(param);
  });
});

@Controller()
class PricesController {
  @Cache({ ttl: '1m', key: 'price:{data.sku}' })
  @MessagePattern('price')
  price(@Payload() data: { sku: string }, @Ctx() ctx: unknown): unknown {
    return [data, ctx];
  }
}

describe('An RPC message handler on a controller at bootstrap', () => {
  afterEach(() => jest.restoreAllMocks());

  it('is no "route" the decorators miss: nothing is logged about it', async () => {
    const warnings: string[] = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
    const moduleRef = await Test.createTestingModule({
      imports: [CashewsModule.forRoot('mem://')],
      controllers: [PricesController],
    }).compile();
    await moduleRef.init();
    await moduleRef.close();
    expect(warnings.filter((line) => line.includes('PricesController'))).toEqual([]);
  });
});
