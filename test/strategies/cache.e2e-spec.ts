/**
 * `@Cache` on provider methods, inside a real Nest app, on mem:// and Redis db 8.
 * Every class name and key template here starts with "Cx" (see test/support/strategy-fixtures.ts).
 */
import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Cache, type CacheService } from '../../lib/index.js';
import {
  cleanup,
  closeApps,
  defaultKeyPattern,
  defaultKeysOf,
  describeBackends,
  hasDefaultKey,
  keysOf,
  protectionKeysOf,
  rejection,
  sleep,
  startApp,
  storedKey,
} from '../support/strategy-fixtures.js';

const TAG = 'Cx';

@Injectable()
class CxUsers {
  calls = 0;
  byArgs: unknown[][] = [];

  @Cache({ ttl: '10s' })
  async get(id: unknown) {
    this.calls++;
    this.byArgs.push([id]);
    return { id, n: this.calls };
  }

  @Cache({ ttl: 300 })
  async short(id: number) {
    this.calls++;
    return { id, n: this.calls };
  }

  @Cache({ ttl: '10s' })
  async two(a: unknown, b: unknown) {
    this.calls++;
    return `${String(a)}/${String(b)}#${this.calls}`;
  }
}

/** Same method name and arguments as CxUsers.get: must not share an entry. */
@Injectable()
class CxOrders {
  calls = 0;

  @Cache({ ttl: '10s' })
  async get(id: unknown) {
    this.calls++;
    return { order: id, n: this.calls };
  }
}

@Injectable()
class CxKeys {
  calls = 0;

  @Cache({ ttl: '10s', key: 'CxUser:{id}' })
  async byId(id: number, _ignored?: string) {
    this.calls++;
    return `user-${id}#${this.calls}`;
  }

  @Cache({ ttl: '10s', key: '{user.id}' })
  async byPath(user: { id: string; name: string }) {
    this.calls++;
    return `${user.name}#${this.calls}`;
  }

  @Cache({ ttl: '10s', key: '{0}' })
  async byIndex(first: string, _second?: string) {
    this.calls++;
    return `${first}#${this.calls}`;
  }

  @Cache({ ttl: '10s', key: 'CxSearch:{q:hash}' })
  async search(q: { text: string; page: number }) {
    this.calls++;
    return `${q.text}:${q.page}#${this.calls}`;
  }

  @Cache({ ttl: '10s', prefix: 'CxPfx' })
  async prefixed(id: number) {
    this.calls++;
    return `p${id}#${this.calls}`;
  }

  @Cache({ ttl: '10s', prefix: 'CxPfx2', key: 'item:{id}' })
  async prefixedTemplate(id: number) {
    this.calls++;
    return `i${id}#${this.calls}`;
  }
}

@Injectable()
class CxConditions {
  calls = 0;
  seen: Array<{ result: unknown; args: readonly unknown[] }> = [];

  @Cache({ ttl: '10s', condition: 'notNullish' })
  async notNullish(value: string | null | undefined) {
    this.calls++;
    return value;
  }

  @Cache<string>({
    ttl: '10s',
    condition: function (this: void, result, args) {
      CxConditions.last?.seen.push({ result, args });
      return args[0] !== 'skip' && result !== 'nope';
    },
  })
  async custom(mode: string) {
    this.calls++;
    return mode === 'bad' ? 'nope' : `${mode}#${this.calls}`;
  }

  @Cache({ ttl: '10s' })
  async nullish(kind: 'null' | 'undefined') {
    this.calls++;
    return kind === 'null' ? null : undefined;
  }

  @Cache({ ttl: '10s', timeCondition: '200ms' })
  async timed(delay: number) {
    this.calls++;
    await sleep(delay);
    return `${delay}#${this.calls}`;
  }

  @Cache<{ expiresIn: number; n: number }>({ ttl: (result) => result.expiresIn })
  async token(expiresIn: number) {
    this.calls++;
    return { expiresIn, n: this.calls };
  }

  static last?: CxConditions;
}

class CxBoom extends Error {}

@Injectable()
class CxFlaky {
  calls = 0;
  fail = true;

  @Cache({ ttl: '10s' })
  async load(id: number) {
    this.calls++;
    if (this.fail) throw new CxBoom(`boom ${id}`);
    return `ok${id}#${this.calls}`;
  }

  @Cache({ ttl: '10s' })
  async slowFail(id: number) {
    this.calls++;
    await sleep(30);
    throw new CxBoom(`boom ${id}`);
  }

  @Cache({ ttl: '10s' })
  async slow(id: number) {
    this.calls++;
    await sleep(30);
    return { id, n: this.calls };
  }

  @Cache({ ttl: '10s', lock: true, step: '5ms' })
  async slowLocked(id: number) {
    this.calls++;
    await sleep(30);
    return { id, n: this.calls };
  }
}

const PROVIDERS = [CxUsers, CxOrders, CxKeys, CxConditions, CxFlaky];

describeBackends('@Cache on a provider', ({ url }) => {
  let cache: CacheService;
  let users: CxUsers;
  let orders: CxOrders;
  let keys: CxKeys;
  let conditions: CxConditions;
  let flaky: CxFlaky;

  beforeEach(async () => {
    await cleanup(url, TAG);
    const started = await startApp(url, PROVIDERS);
    cache = started.cache;
    users = started.app.get(CxUsers);
    orders = started.app.get(CxOrders);
    keys = started.app.get(CxKeys);
    conditions = started.app.get(CxConditions);
    CxConditions.last = conditions;
    flaky = started.app.get(CxFlaky);
  });

  afterEach(async () => {
    CxConditions.last = undefined;
    await closeApps();
  });

  it('serves a hit from the store: the method runs once', async () => {
    const first = await users.get(1);
    const second = await users.get(1);
    expect(first).toEqual({ id: 1, n: 1 });
    expect(second).toEqual({ id: 1, n: 1 });
    expect(users.calls).toBe(1);
    expect(await cache.get(await storedKey(cache, 'CxUsers:get', '1'))).toEqual({ id: 1, n: 1 });
  });

  it('a hit is a copy: mutating a returned value does not change the stored one', async () => {
    const first = await users.get(2);
    (first as { n: number }).n = 999;
    expect(await users.get(2)).toEqual({ id: 2, n: 1 });
  });

  it('expires after ttl', async () => {
    expect(await users.short(1)).toEqual({ id: 1, n: 1 });
    expect(await users.short(1)).toEqual({ id: 1, n: 1 });
    const left = await cache.getExpire(await storedKey(cache, 'CxUsers:short', '1'));
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(300);
    await sleep(500);
    expect(await users.short(1)).toEqual({ id: 1, n: 2 });
    expect(users.calls).toBe(2);
  });

  it('default key holds the class name: two classes with the same method and args do not collide', async () => {
    expect(await users.get(7)).toEqual({ id: 7, n: 1 });
    expect(await orders.get(7)).toEqual({ order: 7, n: 1 });
    expect(await users.get(7)).toEqual({ id: 7, n: 1 });
    expect(await orders.get(7)).toEqual({ order: 7, n: 1 });
    expect(users.calls).toBe(1);
    expect(orders.calls).toBe(1);
    const stored = await keysOf(cache, 'Cx*');
    expect(stored).toHaveLength(2);
    expect(stored[0]).toMatch(defaultKeyPattern('CxOrders:get', '7'));
    expect(stored[1]).toMatch(defaultKeyPattern('CxUsers:get', '7'));
  });

  it('different arguments get different entries', async () => {
    await users.get(1);
    await users.get(2);
    await users.two('a', 'b');
    await users.two('b', 'a');
    await users.two('a:b', undefined);
    await users.two('a', 'b');
    expect(users.calls).toBe(5);
    expect(await users.two('a', 'b')).toBe('a/b#3');
  });

  it('null, undefined, "null" and "undefined" are distinct arguments', async () => {
    expect(await users.get(null)).toEqual({ id: null, n: 1 });
    expect(await users.get(undefined)).toEqual({ id: undefined, n: 2 });
    expect(await users.get('null')).toEqual({ id: 'null', n: 3 });
    expect(await users.get('undefined')).toEqual({ id: 'undefined', n: 4 });
    expect(await users.get(null)).toEqual({ id: null, n: 1 });
    expect(await users.get(undefined)).toEqual({ id: undefined, n: 2 });
    expect(await users.get('null')).toEqual({ id: 'null', n: 3 });
    expect(users.calls).toBe(4);
    expect(await defaultKeysOf(cache, 'CxUsers:get', '%null')).toHaveLength(1);
    expect(await defaultKeysOf(cache, 'CxUsers:get', '%undefined')).toHaveLength(1);
    expect(await defaultKeysOf(cache, 'CxUsers:get', 'null')).toHaveLength(1);
    expect(await keysOf(cache, 'CxUsers:get*')).toHaveLength(4);
  });

  it('numbers and strings with the same text are distinct arguments (issue #9), objects are keyed stably', async () => {
    await users.get(42);
    expect(await users.get('42')).toEqual({ id: '42', n: 2 });
    expect(await users.get(42)).toEqual({ id: 42, n: 1 });
    await users.get({ b: 2, a: 1 });
    expect(await users.get({ a: 1, b: 2 })).toEqual({ id: { b: 2, a: 1 }, n: 3 });
    expect(users.calls).toBe(3);
  });

  it("key template 'CxUser:{id}' ignores other arguments", async () => {
    expect(await keys.byId(5, 'x')).toBe('user-5#1');
    expect(await keys.byId(5, 'y')).toBe('user-5#1');
    expect(await keys.byId(6)).toBe('user-6#2');
    expect(await keysOf(cache, 'CxUser:*')).toEqual(['CxUser:5', 'CxUser:6']);
  });

  it("key template '{user.id}' reads a property path", async () => {
    expect(await keys.byPath({ id: 'CxPath1', name: 'ann' })).toBe('ann#1');
    expect(await keys.byPath({ id: 'CxPath1', name: 'bob' })).toBe('ann#1');
    expect(await keys.byPath({ id: 'CxPath2', name: 'bob' })).toBe('bob#2');
    expect(await keysOf(cache, 'CxPath*')).toEqual(['CxPath1', 'CxPath2']);
  });

  it("key template '{0}' reads an argument by position", async () => {
    expect(await keys.byIndex('CxIdx', 'a')).toBe('CxIdx#1');
    expect(await keys.byIndex('CxIdx', 'b')).toBe('CxIdx#1');
    expect(await cache.get('CxIdx')).toBe('CxIdx#1');
  });

  it("key template '{q:hash}' stores under a digest of the argument", async () => {
    const q = { text: 'shoes', page: 2 };
    expect(await keys.search(q)).toBe('shoes:2#1');
    expect(await keys.search({ page: 2, text: 'shoes' })).toBe('shoes:2#1');
    expect(await keys.search({ text: 'shoes', page: 3 })).toBe('shoes:3#2');
    const digest = createHash('sha1').update('{"page":2,"text":"shoes"}').digest('hex');
    expect(await cache.get(`CxSearch:${digest}`)).toBe('shoes:2#1');
    expect(await keysOf(cache, 'CxSearch:*')).toHaveLength(2);
  });

  it('prefix is prepended to the default key and to a template', async () => {
    expect(await keys.prefixed(1)).toBe('p1#1');
    expect(await keys.prefixedTemplate(1)).toBe('i1#2');
    expect(await keys.prefixed(1)).toBe('p1#1');
    const stored = await keysOf(cache, 'CxPfx*');
    expect(stored).toHaveLength(2);
    expect(stored[0]).toBe('CxPfx2:item:1');
    expect(stored[1]).toMatch(defaultKeyPattern('CxPfx:CxKeys:prefixed', '1'));
  });

  it("condition 'notNullish' does not store null or undefined", async () => {
    expect(await conditions.notNullish(null)).toBeNull();
    expect(await conditions.notNullish(null)).toBeNull();
    expect(await conditions.notNullish(undefined)).toBeUndefined();
    expect(await conditions.notNullish(undefined)).toBeUndefined();
    expect(conditions.calls).toBe(4);
    expect(await conditions.notNullish('v')).toBe('v');
    expect(await conditions.notNullish('v')).toBe('v');
    expect(conditions.calls).toBe(5);
    const stored = await keysOf(cache, 'CxConditions:*');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatch(defaultKeyPattern('CxConditions:notNullish', 'v'));
  });

  it('a custom condition receives the result and the arguments', async () => {
    expect(await conditions.custom('a')).toBe('a#1');
    expect(await conditions.custom('a')).toBe('a#1');
    expect(await conditions.custom('skip')).toBe('skip#2');
    expect(await conditions.custom('skip')).toBe('skip#3');
    expect(await conditions.custom('bad')).toBe('nope');
    expect(await conditions.custom('bad')).toBe('nope');
    expect(conditions.calls).toBe(5);
    expect(conditions.seen[0]).toEqual({ result: 'a#1', args: ['a'] });
    expect(conditions.seen.map((s) => s.args[0])).toEqual(['a', 'skip', 'skip', 'bad', 'bad']);
  });

  it('null and undefined results are cached by default', async () => {
    expect(await conditions.nullish('null')).toBeNull();
    expect(await conditions.nullish('null')).toBeNull();
    expect(await conditions.nullish('undefined')).toBeUndefined();
    expect(await conditions.nullish('undefined')).toBeUndefined();
    expect(conditions.calls).toBe(2);
    expect(await hasDefaultKey(cache, 'CxConditions:nullish', 'null')).toBe(true);
    expect(await hasDefaultKey(cache, 'CxConditions:nullish', 'undefined')).toBe(true);
  });

  it("timeCondition '200ms' stores only slow calls", async () => {
    expect(await conditions.timed(0)).toBe('0#1');
    expect(await conditions.timed(0)).toBe('0#2');
    expect(await conditions.timed(400)).toBe('400#3');
    expect(await conditions.timed(400)).toBe('400#3');
    expect(conditions.calls).toBe(3);
    const stored = await keysOf(cache, 'CxConditions:timed*');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatch(defaultKeyPattern('CxConditions:timed', '400'));
  });

  it('ttl may be a function of the result', async () => {
    expect(await conditions.token(300)).toEqual({ expiresIn: 300, n: 1 });
    expect(await conditions.token(10_000)).toEqual({ expiresIn: 10_000, n: 2 });
    const short = await cache.getExpire(await storedKey(cache, 'CxConditions:token', '300'));
    const long = await cache.getExpire(await storedKey(cache, 'CxConditions:token', '10000'));
    expect(short).toBeGreaterThan(0);
    expect(short).toBeLessThanOrEqual(300);
    expect(long).toBeGreaterThan(5_000);
    await sleep(500);
    expect(await conditions.token(300)).toEqual({ expiresIn: 300, n: 3 });
    expect(await conditions.token(10_000)).toEqual({ expiresIn: 10_000, n: 2 });
  });

  it('errors are not cached: the method runs again on the next call', async () => {
    expect(await rejection(flaky.load(1))).toBeInstanceOf(CxBoom);
    expect(await rejection(flaky.load(1))).toBeInstanceOf(CxBoom);
    expect(flaky.calls).toBe(2);
    expect(await hasDefaultKey(cache, 'CxFlaky:load', '1')).toBe(false);
    flaky.fail = false;
    expect(await flaky.load(1)).toBe('ok1#3');
    expect(await flaky.load(1)).toBe('ok1#3');
    expect(flaky.calls).toBe(3);
  });

  it('concurrent callers sharing a failing run all get the error, and nothing is stored', async () => {
    // The run outlasts the callers' reads (a Redis round trip), so all of them join it.
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => flaky.slowFail(2)));
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof CxBoom)).toBe(true);
    expect(flaky.calls).toBe(1);
    expect(await keysOf(cache, 'CxFlaky:slowFail*')).toEqual([]);
  });

  it('1000 concurrent cold calls run the method exactly once and all get the value', async () => {
    const results = await Promise.all(Array.from({ length: 1000 }, () => flaky.slow(9)));
    expect(flaky.calls).toBe(1);
    expect(results.every((r) => r.id === 9 && r.n === 1)).toBe(true);
    expect(await flaky.slow(9)).toEqual({ id: 9, n: 1 });
    expect(flaky.calls).toBe(1);
  });

  it('1000 concurrent cold calls with lock: true run the method exactly once', async () => {
    const results = await Promise.all(Array.from({ length: 1000 }, () => flaky.slowLocked(3)));
    expect(flaky.calls).toBe(1);
    expect(results.every((r) => r.id === 3 && r.n === 1)).toBe(true);
    // The stampede lock is released once the value is stored.
    expect(await keysOf(cache, 'CxFlaky:slowLocked*')).toHaveLength(1);
    expect(await protectionKeysOf(cache, 'CxFlaky:slowLocked*:stampede')).toEqual([]);
  });
});
