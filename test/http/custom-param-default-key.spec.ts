/**
 * Outside HTTP a default key leaves out the parameters of custom decorators (`createParamDecorator`), as a default
 * controller key does: one answering the request (circular) or a DataLoader (a function) is no key, and rendering it
 * failed every call with CacheValueError. A template may still name one.
 */
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { Args, Query, Resolver } from '@nestjs/graphql';
import { Cache } from '../../lib/index.js';
import { captureLogs } from '../support/logged.js';
import { intercept, startedForEachTest } from './handler-calls.js';

const GqlReq = createParamDecorator((_: unknown, context: ExecutionContext) => {
  const gqlContext = context.getArgByIndex(2) as { req: unknown };
  return gqlContext.req;
});

/** A DataLoader-per-request helper (e.g. `@Loader(UserLoader)`): its loader holds its batch function. */
let loaders = 0;
const Loader = createParamDecorator(() => {
  loaders++;
  return { _batchLoadFn: async (keys: readonly unknown[]) => keys };
});

/** The tenant of the GraphQL context, which a template names. */
const Tenant = createParamDecorator((_: unknown, context: ExecutionContext) => {
  return (context.getArgByIndex(2) as { tenant: string }).tenant;
});

@Resolver('Item')
class ItemsResolver {
  @Cache({ ttl: '1m' })
  @Query()
  users(@Args() args: { page: number }, @Loader() loader: unknown): unknown {
    return [args, loader];
  }

  @Cache({ ttl: '1m', key: 'tenant:{tenant}:{args.page}' })
  @Query()
  byTenant(@Args() args: { page: number }, @Tenant() tenant: string): unknown {
    return [args, tenant];
  }

  @Cache({ ttl: '1m' })
  @Query()
  items(@Args() args: { page: number }, @GqlReq() req: unknown): unknown {
    return [args, req];
  }
}

/** An Express-like request: it refers to itself through its response. */
function request(): Record<string, unknown> {
  const req: Record<string, unknown> = { url: '/graphql' };
  req.res = { req };
  return req;
}

describe('a default key outside HTTP and custom parameter decorators', () => {
  const nest = startedForEachTest();

  it('leaves out one answering the request: the resolver is cached by its args', async () => {
    captureLogs();
    const runs = { count: 0 };
    const call = () =>
      intercept(
        nest.interceptor,
        'graphql',
        ItemsResolver,
        'items',
        [undefined, { page: 1 }, { req: request() }, {}],
        runs,
      );
    await expect(call()).resolves.toBe(1);
    await expect(call()).resolves.toBe(1);
  });

  it('leaves out one answering a DataLoader, without calling its factory', async () => {
    captureLogs();
    const runs = { count: 0 };
    const call = () =>
      intercept(nest.interceptor, 'graphql', ItemsResolver, 'users', [undefined, { page: 1 }, {}, {}], runs);
    loaders = 0;
    await expect(call()).resolves.toBe(1);
    await expect(call()).resolves.toBe(1);
    expect(loaders).toBe(0);
  });

  it('a template still names one', async () => {
    captureLogs();
    const runs = { count: 0 };
    const call = (tenant: string) =>
      intercept(nest.interceptor, 'graphql', ItemsResolver, 'byTenant', [undefined, { page: 1 }, { tenant }, {}], runs);
    await expect(call('a')).resolves.toBe(1);
    await expect(call('b')).resolves.toBe(2);
    await expect(call('a')).resolves.toBe(1);
  });
});
