/** Calls through `CashewsInterceptor` outside HTTP, as Nest makes them, for the unit specs of handler keys. */
import 'reflect-metadata';
import { jest } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { Test } from '@nestjs/testing';
import { lastValueFrom, of } from 'rxjs';
import { CacheResolver } from '../../lib/cache-resolver.js';
import { CacheService, CashewsInterceptor, CashewsModule } from '../../lib/index.js';

export type Handler = (...args: never[]) => unknown;

export interface Started {
  app: INestApplicationContext;
  interceptor: CashewsInterceptor;
  cache: CacheService;
}

export async function started(): Promise<Started> {
  const moduleRef = await Test.createTestingModule({ imports: [CashewsModule.forRoot('mem://')] }).compile();
  const app = await moduleRef.init();
  return {
    app,
    interceptor: new CashewsInterceptor(app.get(CacheResolver, { strict: false })),
    cache: app.get(CacheService),
  };
}

/**
 * A fresh `mem://` app for each test of the calling `describe`: started before each test, closed after it with every
 * spy restored (`captureLogs()` of test/support/logged.ts among them). Its fields are set in `beforeEach`, so read them
 * inside the tests.
 */
export function startedForEachTest(): Started {
  const current = {} as Started;
  beforeEach(async () => void Object.assign(current, await started()));
  afterEach(async () => {
    jest.restoreAllMocks();
    await current.app.close();
  });
  return current;
}

/** One call through the interceptor, as the e2e suite does; counts handler runs. */
export function intercept(
  interceptor: CashewsInterceptor,
  type: 'rpc' | 'graphql' | 'ws',
  owner: object,
  method: string,
  args: unknown[],
  runs: { count: number },
  answer: (run: number) => unknown = (run) => run,
) {
  const handler = (owner as { prototype: Record<string, Handler> }).prototype[method];
  const context = new ExecutionContextHost(args, owner as never, handler as never);
  context.setType(type);
  const next = { handle: () => (runs.count++, of(answer(runs.count))) };
  return lastValueFrom(interceptor.intercept(context, next));
}
