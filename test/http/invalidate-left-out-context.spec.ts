/**
 * `@Invalidate([Resolver, 'method'])` builds the target's default key as the target's calls stored it: without the
 * parameters that key leaves out (`@Context()` here), not with the invalidating call's own context in their place.
 */
import { Args, Context, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Cache, Invalidate } from '../../lib/index.js';
import { captureLogs } from '../support/logged.js';
import { intercept, startedForEachTest } from './handler-calls.js';

@Resolver('Profile')
class ProfileResolver {
  @Cache({ ttl: '1m' })
  @Query()
  profile(@Args('id') id: string, @Context() ctx: { locale: string }): unknown {
    return [id, ctx];
  }

  @Invalidate([ProfileResolver, 'profile'])
  @Mutation()
  rename(@Args('id') id: string, @Context() ctx: { locale: string }): unknown {
    return [id, ctx];
  }
}

describe('@Invalidate of a resolver method whose parameters include @Context()', () => {
  const nest = startedForEachTest();

  it('a mutation invalidating [ProfileResolver, "profile"] drops the entry the query stored', async () => {
    captureLogs();
    const runs = { count: 0 };
    const query = () =>
      intercept(
        nest.interceptor,
        'graphql',
        ProfileResolver,
        'profile',
        [undefined, { id: 'u1' }, { locale: 'en' }, {}],
        runs,
      );
    await expect(query()).resolves.toBe(1);
    await expect(query()).resolves.toBe(1);
    await intercept(
      nest.interceptor,
      'graphql',
      ProfileResolver,
      'rename',
      [undefined, { id: 'u1' }, { locale: 'fr' }, {}],
      {
        count: 0,
      },
    );
    // After the mutation the query must run again.
    await expect(query()).resolves.toBe(2);
  });
});
