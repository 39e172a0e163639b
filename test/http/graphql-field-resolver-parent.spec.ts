/**
 * A GraphQL field resolver is told by its `@ResolveField()` metadata, not by the shape of its parent: a parent keeping
 * its data in private fields behind getters has no own enumerable fields, and a default key would render it `{}`, so
 * every parent would share one entry.
 */
import { Args, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { Cache } from '../../lib/index.js';
import { captureLogs } from '../support/logged.js';
import { intercept, startedForEachTest } from './handler-calls.js';

class User {
  readonly #id: number;
  constructor(id: number) {
    this.#id = id;
  }
  get id(): number {
    return this.#id;
  }
}

@Resolver('User')
class PostsResolver {
  @Cache({ ttl: '1m' })
  @ResolveField()
  posts(@Parent() user: User, @Args() args: { page: number }): unknown {
    return [user, args];
  }
}

describe('a default-keyed @Cache on a field resolver whose parent has no enumerable fields', () => {
  const nest = startedForEachTest();

  it('steps aside, said once: two parents never share an entry', async () => {
    const logs = captureLogs();
    const runs = { count: 0 };
    const call = (user: User) =>
      intercept(
        nest.interceptor,
        'graphql',
        PostsResolver,
        'posts',
        [user, { page: 1 }, { req: {} }, {}],
        runs,
        (run) => ({ owner: user.id, run }),
      );
    await expect(call(new User(1))).resolves.toEqual({ owner: 1, run: 1 });
    await expect(call(new User(2))).resolves.toEqual({ owner: 2, run: 2 });
    await expect(call(new User(1))).resolves.toEqual({ owner: 1, run: 3 });
    const said = logs.filter((line) => line.includes('PostsResolver.posts') && line.includes('field resolver'));
    expect(said).toHaveLength(1);
  });
});
