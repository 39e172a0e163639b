/**
 * Handler arguments outside HTTP, read from the metadata the real parameter decorators of @nestjs/graphql,
 * @nestjs/microservices and @nestjs/websockets write, as Nest's own parameter factories fill them.
 */
import 'reflect-metadata';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { Args, Context, Info, Parent, Query, ResolveField, ResolveReference, Root } from '@nestjs/graphql';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { Ack, ConnectedSocket, MessageBody, SubscribeMessage } from '@nestjs/websockets';
import { LEFT_OUT } from '../keys/left-out.js';
import {
  argsFromContext,
  handlerContextTypes,
  keyedArgs,
  readHandlerArgs,
  type HandlerContextType,
} from './handler-args.js';

const Tenant = createParamDecorator((field: string, context: ExecutionContext) => {
  const ctx = context.getArgByIndex<{ tenant: Record<string, unknown> }>(2);
  return ctx.tenant[field];
});

class Resolvers {
  @ResolveField()
  friendship(@Parent() user: unknown, @Args('id') otherId: string, @Context() ctx: unknown, @Info() info: unknown) {
    return [user, otherId, ctx, info];
  }

  @Query()
  search(@Info() info: unknown, @Args() args: unknown, @Root() root: unknown, @Context('req') req: unknown) {
    return [info, args, root, req];
  }

  @Query()
  tenant(@Tenant('id') tenantId: string, @Args({ name: 'page' }) page: number) {
    return [tenantId, page];
  }

  @ResolveReference()
  reference(@Parent() reference: unknown, @Context() ctx: unknown) {
    return [reference, ctx];
  }

  @ResolveField()
  schemaFirst(parent: unknown, args: unknown, ctx: unknown, info: unknown) {
    return [parent, args, ctx, info];
  }

  @ResolveReference()
  schemaFirstReference(reference: unknown, ctx: unknown) {
    return [reference, ctx];
  }
}

class Handlers {
  @MessagePattern('charge')
  charge(@Ctx() ctx: unknown, @Payload() data: unknown) {
    return [ctx, data];
  }

  @EventPattern('refund')
  refund(@Payload('id') id: unknown) {
    return id;
  }

  @MessagePattern('plain')
  plain(data: unknown, ctx: unknown) {
    return [data, ctx];
  }

  @SubscribeMessage('join')
  join(@ConnectedSocket() client: unknown, @MessageBody('room') room: string, @Ack() ack: unknown) {
    return [client, room, ack];
  }

  @SubscribeMessage('hello')
  hello(client: unknown, data: unknown) {
    return [client, data];
  }
}

function argsOf(owner: object, method: string, type: HandlerContextType, args: unknown[]): unknown[] {
  const handler = (owner as { prototype: Record<string, unknown> }).prototype[method];
  const context = new ExecutionContextHost(args, owner as never, handler as never);
  context.setType(type);
  return argsFromContext(readHandlerArgs(owner, method, type, handler), args, () => context, `X.${method}`);
}

const ctx = { req: { user: 1 }, tenant: { id: 't1' } };
const info = { fieldName: 'f' };

describe('readHandlerArgs / argsFromContext', () => {
  it('GraphQL: @Parent/@Root is the root, @Args the args or one of them, @Context and @Info theirs', () => {
    const parent = { id: 1 };
    expect(argsOf(Resolvers, 'friendship', 'graphql', [parent, { id: 'u2' }, ctx, info])).toEqual([
      parent,
      'u2',
      ctx,
      info,
    ]);
    expect(argsOf(Resolvers, 'search', 'graphql', [parent, { q: 'x' }, ctx, info])).toEqual([
      info,
      { q: 'x' },
      parent,
      ctx.req,
    ]);
    expect(readHandlerArgs(Resolvers, 'friendship', 'graphql').unreadable).toEqual([2, 3]);
    expect(readHandlerArgs(Resolvers, 'search', 'graphql').unreadable).toEqual([0, 3]);
  });

  it("GraphQL: @Args({ name }) and a custom decorator's factory, called with the call's context", () => {
    expect(argsOf(Resolvers, 'tenant', 'graphql', [undefined, { page: 3 }, ctx, info])).toEqual(['t1', 3]);
  });

  it('GraphQL: a reference resolver gets [reference, context, info], read as Nest reads it', () => {
    const reference = { __typename: 'User', id: 1 };
    expect(argsOf(Resolvers, 'reference', 'graphql', [reference, ctx, info])).toEqual([reference, ctx]);
  });

  it('GraphQL without parameter decorators: the context arguments as they are, context and info unreadable', () => {
    const parent = { id: 1 };
    expect(argsOf(Resolvers, 'schemaFirst', 'graphql', [parent, { a: 1 }, ctx, info])).toEqual([
      parent,
      { a: 1 },
      ctx,
      info,
    ]);
    expect(readHandlerArgs(Resolvers, 'schemaFirst', 'graphql').unreadable).toEqual([2, 3]);
    const handler = Resolvers.prototype.schemaFirstReference;
    expect(readHandlerArgs(Resolvers, 'schemaFirstReference', 'graphql', handler).unreadable).toEqual([1, 2]);
  });

  it('RPC: @Payload() is argument 0 or one of its fields, @Ctx() argument 1; undecorated, Nest binds the payload first', () => {
    const rpcCtx = { pattern: 'charge' };
    expect(argsOf(Handlers, 'charge', 'rpc', [{ id: 1 }, rpcCtx])).toEqual([rpcCtx, { id: 1 }]);
    expect(argsOf(Handlers, 'refund', 'rpc', [{ id: 2 }, rpcCtx])).toEqual([2]);
    expect(argsOf(Handlers, 'plain', 'rpc', [{ id: 3 }, rpcCtx])).toEqual([{ id: 3 }, rpcCtx, undefined]);
    expect(readHandlerArgs(Handlers, 'charge', 'rpc').unreadable).toEqual([0]);
    expect(readHandlerArgs(Handlers, 'plain', 'rpc').unreadable).toEqual([1, 2]);
  });

  it('WebSocket: client, message body (or one field) and ack; undecorated, Nest binds (client, data, ack)', () => {
    const client = { id: 's1' };
    const ack = () => undefined;
    expect(argsOf(Handlers, 'join', 'ws', [client, { room: 'r1' }, ack])).toEqual([client, 'r1', ack]);
    expect(argsOf(Handlers, 'hello', 'ws', [client, { a: 1 }])).toEqual([client, { a: 1 }, undefined]);
    expect(readHandlerArgs(Handlers, 'join', 'ws').unreadable).toEqual([0, 2]);
    expect(readHandlerArgs(Handlers, 'hello', 'ws').unreadable).toEqual([0, 2]);
  });

  it('a default key reads the arguments with the unreadable ones left out, in place', () => {
    const handler = readHandlerArgs(Resolvers, 'friendship', 'graphql');
    expect(keyedArgs(handler, [{ id: 1 }, 'u2', ctx, info])).toEqual([{ id: 1 }, 'u2', LEFT_OUT, LEFT_OUT]);
  });
});

describe('handlerContextTypes', () => {
  it('tells the context from the routing decorators', () => {
    expect(handlerContextTypes(Resolvers.prototype.friendship)).toEqual(['graphql']);
    expect(handlerContextTypes(Resolvers.prototype.search)).toEqual(['graphql']);
    expect(handlerContextTypes(Resolvers.prototype.reference)).toEqual(['graphql']);
    expect(handlerContextTypes(Handlers.prototype.charge)).toEqual(['rpc']);
    expect(handlerContextTypes(Handlers.prototype.refund)).toEqual(['rpc']);
    expect(handlerContextTypes(Handlers.prototype.join)).toEqual(['ws']);
    expect(handlerContextTypes(() => undefined)).toEqual([]);
  });
});
