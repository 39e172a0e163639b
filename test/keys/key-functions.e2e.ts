/**
 * Issue #11: a key given as a function of the call (`key: (args, req?) => string`, the `trackBy(context)` habit)
 * and `skipArgs`, which leaves technical arguments (an EntityManager, a session) out of default keys. A key
 * function's result is escaped like a template's values (its `:` separators kept) and can never name
 * protection state; `undefined`/`''` is handled like an undefined placeholder. Providers on mem:// and Redis
 * db 8 (names start with "Kf"); controllers are covered in test/decorators/class-cache.e2e.ts.
 */
import { Injectable } from '@nestjs/common';
import {
  Cache,
  CashewsConfigError,
  Invalidate,
  KeyPlaceholderError,
  Locked,
  RateLimit,
  type CacheService,
} from '../../lib/index.js';
import { PROTECTED_PREFIX } from '../../lib/keys/protected-keys.js';
import {
  cleanup,
  closeApps,
  describeBackends,
  keysOf,
  protectionKeysOf,
  rejection,
  startApp,
  storedKey,
} from '../support/strategy-fixtures.js';

const TAG = 'Kf';

interface Manager {
  name: string;
}

@Injectable()
class KfUsers {
  calls = 0;

  @Cache({ ttl: '10s', key: ([id]: readonly [string]) => `Kf:user:${id}` })
  async user(id: string) {
    return { id, n: ++this.calls };
  }

  @Invalidate([KfUsers, 'user'])
  async update(id: string) {
    return id;
  }

  @Cache({ ttl: '10s', key: ([id]: readonly [string | undefined]) => id })
  async optional(id?: string) {
    return { id: id ?? null, n: ++this.calls };
  }

  @Cache({ ttl: '10s', key: ([raw]: readonly [string]) => raw })
  async raw(raw: string) {
    return { raw, n: ++this.calls };
  }

  @Cache({ ttl: '10s', key: () => 42 as unknown as string })
  async notAString() {
    return ++this.calls;
  }

  @Locked({ key: ([id]: readonly [string]) => id })
  async locked(id: string) {
    return `${id}:${++this.calls}`;
  }

  @RateLimit({ limit: 1, period: '1m', key: ([tenant]: readonly [string]) => `Kf:tenant:${tenant}` })
  async limited(tenant: string) {
    return `${tenant}:${++this.calls}`;
  }

  @Cache({ ttl: '10s', skipArgs: ['manager'] })
  async find(id: number, manager: Manager) {
    return { id, by: manager.name, n: ++this.calls };
  }

  @Cache({ ttl: '10s', skipArgs: [0] })
  async scoped(session: Manager, id: number) {
    return { id, by: session.name, n: ++this.calls };
  }
}

describeBackends('key functions and skipArgs on providers', ({ url }) => {
  let cache: CacheService;
  let users: KfUsers;

  beforeEach(async () => {
    await cleanup(url, TAG);
    const app = await startApp(url, [KfUsers]);
    cache = app.cache;
    users = app.app.get(KfUsers);
  });

  afterEach(async () => {
    await closeApps();
    await cleanup(url, TAG);
  });

  it('a key function names the entry; @Invalidate of the method deletes it', async () => {
    expect(await users.user('42')).toEqual({ id: '42', n: 1 });
    expect(await users.user('42')).toEqual({ id: '42', n: 1 });
    expect(await users.user('7')).toEqual({ id: '7', n: 2 });
    expect(await keysOf(cache, 'Kf:*')).toEqual(['Kf:user:42', 'Kf:user:7']);
    await users.update('42');
    expect(await keysOf(cache, 'Kf:*')).toEqual(['Kf:user:7']);
    expect(await users.user('42')).toEqual({ id: '42', n: 3 });
  });

  it("escapes the result's wildcards and whitespace but keeps its separators", async () => {
    expect(await users.user('a b*')).toEqual({ id: 'a b*', n: 1 });
    expect(await users.user('a b*')).toEqual({ id: 'a b*', n: 1 });
    expect(await users.user('a b')).toEqual({ id: 'a b', n: 2 });
    expect(await keysOf(cache, 'Kf:*')).toEqual(['Kf:user:a%20b', 'Kf:user:a%20b%2A']);
    expect(await users.raw('Kf:x:y')).toEqual({ raw: 'Kf:x:y', n: 3 });
    expect(await keysOf(cache, 'Kf:x:*')).toEqual(['Kf:x:y']);
  });

  it('a result naming protection state is escaped whole and never reaches it', async () => {
    const forged = `${PROTECTED_PREFIX}Kf:tenant:acme:rate`;
    expect(await users.limited('acme')).toBe('acme:1');
    const state = await protectionKeysOf(cache, 'Kf*');
    expect(state.length).toBeGreaterThan(0);
    try {
      expect(await users.raw(forged)).toEqual({ raw: forged, n: 2 });
      expect(await users.raw(forged)).toEqual({ raw: forged, n: 2 });
      expect(await keysOf(cache, 'cashews%3Aprotect*')).toEqual([`cashews%3Aprotect%3AKf%3Atenant%3Aacme%3Arate`]);
      // The rate-limit state is untouched: the tenant is still over its limit.
      expect(await protectionKeysOf(cache, 'Kf*')).toEqual(state);
      await expect(users.limited('acme')).rejects.toThrow(/rate limit/i);
    } finally {
      await cache.deleteMatch('cashews%3Aprotect*');
    }
  });

  it('undefined or empty: a storing layer steps aside, a lock refuses the call', async () => {
    expect(await users.optional()).toEqual({ id: null, n: 1 });
    expect(await users.optional()).toEqual({ id: null, n: 2 });
    expect(await users.optional('')).toEqual({ id: '', n: 3 });
    expect(await users.optional('')).toEqual({ id: '', n: 4 });
    const error = await rejection(users.locked(''));
    expect(error).toBeInstanceOf(KeyPlaceholderError);
    expect((error as Error).message).toMatch(/key function of KfUsers:locked returned an empty string/);
    expect(users.calls).toBe(4);
  });

  it('a non-string result fails the call with a CashewsConfigError naming the method', async () => {
    const error = await rejection(users.notAString());
    expect(error).toBeInstanceOf(CashewsConfigError);
    expect((error as Error).message).toMatch(/key function of KfUsers:notAString returned a number/);
  });

  it('skipArgs leaves an argument out of the default key, by name or by position', async () => {
    expect(await users.find(1, { name: 'tx-a' })).toEqual({ id: 1, by: 'tx-a', n: 1 });
    expect(await users.find(1, { name: 'tx-b' })).toEqual({ id: 1, by: 'tx-a', n: 1 });
    expect(await users.find(2, { name: 'tx-b' })).toEqual({ id: 2, by: 'tx-b', n: 2 });
    expect(await storedKey(cache, 'KfUsers:find', '1')).toMatch(/^KfUsers:find:v[^:]+:1$/);
    expect(await users.scoped({ name: 's1' }, 5)).toEqual({ id: 5, by: 's1', n: 3 });
    expect(await users.scoped({ name: 's2' }, 5)).toEqual({ id: 5, by: 's1', n: 3 });
    expect(await storedKey(cache, 'KfUsers:scoped', '5')).toMatch(/^KfUsers:scoped:v[^:]+:5$/);
  });
});

describe('key option validation', () => {
  it('skipArgs names a parameter or a position, only on default keys', () => {
    expect(() => {
      class KfBadName {
        @Cache({ ttl: '1m', skipArgs: ['manger'] })
        async find(id: number, manager: Manager) {
          return [id, manager];
        }
      }
      return KfBadName;
    }).toThrow(/skipArgs entry "manger" is neither a parameter name nor a position; parameters: 0 id, 1 manager/);
    expect(() => {
      class KfBadIndex {
        @Cache({ ttl: '1m', skipArgs: [2] })
        async find(id: number, manager: Manager) {
          return [id, manager];
        }
      }
      return KfBadIndex;
    }).toThrow(CashewsConfigError);
    expect(() => {
      class KfWithKey {
        @Cache({ ttl: '1m', key: 'x:{id}', skipArgs: ['manager'] })
        async find(id: number, manager: Manager) {
          return [id, manager];
        }
      }
      return KfWithKey;
    }).toThrow(/skipArgs only applies to default keys/);
    expect(() => {
      class KfMethodKey {
        // @ts-expect-error skipArgs is not in @RateLimit's options type either: refused at run time for JavaScript
        @RateLimit({ limit: 1, period: '1m', skipArgs: [0] })
        async send(id: number) {
          return id;
        }
      }
      return KfMethodKey;
    }).toThrow(/skipArgs does not apply: the default key of @RateLimit is the method/);
  });

  it('key is a template or a function', () => {
    expect(() => {
      class KfBadKey {
        @Cache({ ttl: '1m', key: 42 as unknown as string })
        async find(id: number) {
          return id;
        }
      }
      return KfBadKey;
    }).toThrow(/key must be a template such as 'user:\{id\}' or a function \(args, req\?\) => string \(got number\)/);
  });
});
