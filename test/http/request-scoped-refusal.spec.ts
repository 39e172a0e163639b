/**
 * A template naming `@Context()` is refused at bootstrap when the handler carries its routing decorator, also on a
 * request-scoped resolver (or one depending on a request-scoped provider, as with DataLoader), whose calls the
 * interceptor runs.
 */
import { jest } from '@jest/globals';
import { Injectable, Scope } from '@nestjs/common';
import { Context, Query, Resolver } from '@nestjs/graphql';
import { Test } from '@nestjs/testing';
import { Cache, CashewsConfigError, CashewsModule } from '../../lib/index.js';
import { captureLogs } from '../support/logged.js';

@Injectable({ scope: Scope.REQUEST })
@Resolver('User')
class ScopedMeResolver {
  @Cache({ ttl: '1m', key: 'me:{ctx.user.id}' })
  @Query()
  me(@Context() ctx: { user: { id: number } }): unknown {
    return ctx.user;
  }
}

describe('bootstrap refusal of a request-scoped resolver', () => {
  afterEach(() => jest.restoreAllMocks());

  it('is refused at bootstrap like a singleton resolver', async () => {
    captureLogs();
    const moduleRef = await Test.createTestingModule({
      imports: [CashewsModule.forRoot('mem://')],
      providers: [ScopedMeResolver],
    }).compile();
    const failure = await moduleRef.init().catch((error: unknown) => error);
    await moduleRef.close().catch(() => undefined);
    expect(failure).toBeInstanceOf(CashewsConfigError);
    expect((failure as Error).message).toContain('ScopedMeResolver.me');
  });
});
