/**
 * A default key outside HTTP leaves out `@Context()`, `@ConnectedSocket()` and custom decorators' parameters, so calls
 * differing only there share one entry (as requests differing only by `@Headers()` share a default controller key).
 * Like HTTP, that is said once per handler: at bootstrap when its routing decorator tells the context, else at its
 * first call.
 */
import { Injectable, createParamDecorator } from '@nestjs/common';
import { Args, Context, Query, Resolver } from '@nestjs/graphql';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Test } from '@nestjs/testing';
import { Cache, CashewsModule } from '../../lib/index.js';
import { captureLogs } from '../support/logged.js';
import { intercept, startedForEachTest } from './handler-calls.js';

const CurrentUser = createParamDecorator(() => ({ id: 1 }));

@Resolver('User')
class MeResolver {
  @Cache({ ttl: '1m' })
  @Query()
  me(@Context() ctx: { user: { id: number } }): unknown {
    return ctx.user;
  }

  @Cache({ ttl: '1m' })
  @Query()
  settings(@Args('id') id: string, @CurrentUser() user: { id: number }): unknown {
    return [id, user];
  }

  /** Named in its template: nothing is left out that tells callers apart. */
  @Cache({ ttl: '1m', key: 'friends:{user.id}' })
  @Query()
  friends(@CurrentUser() user: { id: number }): unknown {
    return user;
  }
}

@WebSocketGateway()
class InboxGateway {
  @Cache({ ttl: '1m' })
  @SubscribeMessage('inbox')
  inbox(@ConnectedSocket() client: { data: { user: number } }, @MessageBody() data: { page: number }): unknown {
    return [client.data.user, data];
  }

  /** Without parameter decorators and declaring none: Nest's client argument is no parameter of it. */
  @Cache({ ttl: '1m' })
  @SubscribeMessage('ping')
  ping(): unknown {
    return 'pong';
  }
}

/** Routed by no decorator of `@nestjs/graphql`: its context is known at its first call. */
@Injectable()
class UnroutedResolver {
  @Cache({ ttl: '1m' })
  me(@Context() ctx: { user: { id: number } }): unknown {
    return ctx.user;
  }
}

describe('default keys outside HTTP that leave parameters out', () => {
  const nest = startedForEachTest();

  it('are said once per handler at bootstrap, naming the method, the parameters and the fix', async () => {
    const logs = captureLogs();
    const moduleRef = await Test.createTestingModule({
      imports: [CashewsModule.forRoot('mem://')],
      providers: [MeResolver, InboxGateway],
    }).compile();
    await moduleRef.init();
    await moduleRef.close();
    const said = (method: string) => logs.filter((line) => line.includes(`on ${method}:`));
    expect(said('MeResolver.me')).toEqual([
      '@cache on MeResolver.me: it reads @Context() (the GraphQL context) (argument 0), which its default key leaves ' +
        'out on a GraphQL call: calls differing only there (another user, connection or request) share one entry. ' +
        "Give it a key template naming what tells callers apart (key: 'me:{user.id}' for a custom decorator's " +
        '@CurrentUser() user, or an argument), or a key function: it receives the arguments as they are. Logged once.',
    ]);
    expect(said('MeResolver.settings')).toHaveLength(1);
    expect(said('MeResolver.settings')[0]).toContain('it reads a custom parameter decorator (argument 1)');
    expect(said('InboxGateway.inbox')).toHaveLength(1);
    expect(said('InboxGateway.inbox')[0]).toContain(
      'it reads @ConnectedSocket() (the client socket) (argument 0), which its default key leaves out on a WebSocket call',
    );
    expect(said('MeResolver.friends')).toEqual([]);
    expect(said('InboxGateway.ping')).toEqual([]);
  });

  it('are said once at the first call of a handler routed otherwise; callers share the entry', async () => {
    const logs = captureLogs();
    const runs = { count: 0 };
    const call = (user: number) =>
      intercept(
        nest.interceptor,
        'graphql',
        UnroutedResolver,
        'me',
        [undefined, {}, { user: { id: user } }, {}],
        runs,
        () => ({
          user,
        }),
      );
    await expect(call(1)).resolves.toEqual({ user: 1 });
    await expect(call(2)).resolves.toEqual({ user: 1 });
    const said = logs.filter((line) => line.includes('UnroutedResolver.me'));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('it reads @Context() (the GraphQL context) (argument 0)');
  });
});
