/**
 * One scenario suite for the strategies that store results: `@Cache`, `@Early`, `@Soft`, `@HitCache` and
 * `@Failover`. Each strategy's e2e file calls {@link storingScenarios} on mem:// and on Redis db 8 with its
 * decorator and what sets it apart ({@link StoringStrategy}); what only one strategy does stays in its own file.
 *
 * A stored result reaches a caller in one of two ways, and every scenario asks for it through {@link StoringStrategy.serves}:
 * a hit strategy answers it instead of running the method, `@Failover` answers it when the method fails. So each
 * probe runs with the method set to fail: a served value proves the store held it (a hit strategy did not run
 * the method, `@Failover` ran it once), and the method's own error going through proves nothing was stored.
 *
 * Every class name and key template here starts with the strategy's tag then `St` (see strategy-fixtures.ts).
 */
import { createHash } from 'node:crypto';
import { Controller, Get, Injectable, Param, ServiceUnavailableException } from '@nestjs/common';
import request from 'supertest';
import {
  backgroundSettled,
  CacheDetect,
  CashewsConfigError,
  type CacheService,
  type ConditionOption,
  type Duration,
  type TtlOption,
  type TypedMethodDecorator,
} from '../../lib/index.js';
import {
  cleanup,
  closeApps,
  defaultKeyPattern,
  defaultKeysOf,
  hasDefaultKey,
  heldCalls,
  keysOf,
  protectionKeysOf,
  readsOf,
  rejection,
  sleep,
  startApp,
  storedKey,
} from './strategy-fixtures.js';

/** The options the scenarios decorate with; each file's `decorate` adds what its decorator requires. */
export interface StoringOptions {
  ttl?: TtlOption;
  key?: string;
  prefix?: string;
  condition?: ConditionOption;
  lock?: boolean;
  step?: Duration;
}

/** The strategy's decorator with the scenario's options, e.g. `(options) => Cache(options)`. */
export type Decorate = (options: StoringOptions) => TypedMethodDecorator;

/** What sets a storing strategy apart, as far as the shared scenarios are concerned. */
export interface StoringStrategy {
  /** The strategy name detection reports (`CacheHit.strategy`). */
  name: 'cache' | 'early' | 'soft' | 'hit' | 'failover';
  /** First letters of the suite's class names and keys: the file's own tag, deleted before each test. */
  tag: string;
  /**
   * How a stored result reaches a caller: `'hit'` answers it without running the method (and concurrent callers
   * of one key share one run), `'fallback'` runs the method on every call and answers it when the method fails.
   */
  serves: 'hit' | 'fallback';
  /** The stored value is wrapped with the time it wants refreshing: `{ v, at }`. */
  envelope: boolean;
  /** A hit counter is stored beside each result, under `<key>:hits`. */
  hitCounter: boolean;
  /** Accepts `lock: true` (a stampede lock across processes); the others refuse the option at decoration. */
  stampedeLock: boolean;
  /** Accepts a `ttl` computed from the result. */
  ttlFunction: boolean;
}

/** What a probe's method throws: the probe expects it back when nothing was stored. */
class StoringProbeError extends Error {}
class StoringUpstreamError extends Error {}

/** The state every subject shares: how often its methods ran, a gate that holds them, an error they throw. */
class Upstream {
  calls = 0;
  gate?: Promise<void>;
  failWith?: Error;

  protected async run<T>(answer: () => T): Promise<T> {
    this.calls++;
    if (this.gate) await this.gate;
    if (this.failWith) throw this.failWith;
    return answer();
  }
}

/** Gives a class built here its suite name before its method decorators read it (the default key starts with it). */
function rename(type: abstract new (...args: never[]) => unknown, name: string): void {
  Object.defineProperty(type, 'name', { value: name });
}

const FIVE_MINUTES = 5 * 60_000;

/** Registers the shared scenarios of `strategy` (inside a `describeBackends` callback): see the file comment. */
export function storingScenarios(strategy: StoringStrategy, decorate: Decorate, backendUrl: string): void {
  const { tag } = strategy;
  const st = `${tag}St`;
  const fallback = strategy.serves === 'fallback';
  const seen: Array<{ result: unknown; args: readonly unknown[] }> = [];

  @Injectable()
  class Users extends Upstream {
    static {
      rename(this, `${st}Users`);
    }

    @decorate({ ttl: '10s' })
    async get(id: unknown) {
      return this.run(() => ({ id, n: this.calls }));
    }

    @decorate({ ttl: '10s' })
    async two(a: unknown, b: unknown) {
      return this.run(() => `${String(a)}/${String(b)}#${this.calls}`);
    }

    @decorate({ ttl: 300 })
    async short(id: number) {
      return this.run(() => ({ id, n: this.calls }));
    }

    @decorate({ ttl: '10s' })
    async slow(id: number) {
      return this.run(() => ({ id, n: this.calls }));
    }
  }

  /** Same method name and arguments as Users.get: must not share its entry. */
  @Injectable()
  class Orders extends Upstream {
    static {
      rename(this, `${st}Orders`);
    }

    @decorate({ ttl: '10s' })
    async get(id: unknown) {
      return this.run(() => ({ order: id, n: this.calls }));
    }
  }

  @Injectable()
  class Keys extends Upstream {
    static {
      rename(this, `${st}Keys`);
    }

    @decorate({ ttl: '10s', key: `${st}User:{id}` })
    async byId(id: number, _ignored?: string) {
      return this.run(() => `user-${id}#${this.calls}`);
    }

    @decorate({ ttl: '10s', key: '{user.id}' })
    async byPath(user: { id: string; name: string }) {
      return this.run(() => `${user.name}#${this.calls}`);
    }

    @decorate({ ttl: '10s', key: '{0}' })
    async byIndex(first: string, _second?: string) {
      return this.run(() => `${first}#${this.calls}`);
    }

    @decorate({ ttl: '10s', key: `${st}Search:{q:hash}` })
    async search(q: { text: string; page: number }) {
      return this.run(() => `${q.text}:${q.page}#${this.calls}`);
    }

    @decorate({ ttl: '10s', prefix: `${st}Pfx` })
    async prefixed(id: number) {
      return this.run(() => `p${id}#${this.calls}`);
    }

    @decorate({ ttl: '10s', prefix: `${st}Pfx2`, key: 'item:{id}' })
    async prefixedTemplate(id: number) {
      return this.run(() => `i${id}#${this.calls}`);
    }
  }

  @Injectable()
  class Conditions extends Upstream {
    static {
      rename(this, `${st}Conditions`);
    }

    @decorate({ ttl: '10s', condition: 'notNullish' })
    async notNullish(value: string | null | undefined) {
      return this.run(() => value);
    }

    @decorate({
      ttl: '10s',
      condition: (result, args) => {
        seen.push({ result, args });
        return args[0] !== 'skip' && result !== 'nope';
      },
    })
    async custom(mode: string) {
      return this.run(() => (mode === 'bad' ? 'nope' : `${mode}#${this.calls}`));
    }

    @decorate({ ttl: '10s' })
    async nullish(kind: 'null' | 'undefined') {
      return this.run(() => (kind === 'null' ? null : undefined));
    }
  }

  const PROVIDERS = [Users, Orders, Keys, Conditions];

  let cache: CacheService;
  let users: Users;
  let orders: Orders;
  let keys: Keys;
  let conditions: Conditions;

  beforeEach(async () => {
    seen.length = 0;
    await cleanup(backendUrl, tag);
    const started = await startApp(backendUrl, PROVIDERS);
    cache = started.cache;
    users = started.app.get(Users);
    orders = started.app.get(Orders);
    keys = started.app.get(Keys);
    conditions = started.app.get(Conditions);
  });

  afterEach(async () => {
    await backgroundSettled();
    await closeApps();
  });

  /**
   * Asks `subject` for a stored result, with its method set to fail: resolves to what was served, after checking
   * that a hit strategy did not run the method and that `@Failover` ran it once.
   */
  async function fromStore<T>(subject: Upstream, call: () => Promise<T>): Promise<T> {
    const before = subject.calls;
    subject.failWith = new StoringProbeError('the method ran and failed');
    try {
      const served = await call();
      expect(subject.calls - before).toBe(fallback ? 1 : 0);
      return served;
    } finally {
      subject.failWith = undefined;
    }
  }

  /** Asks the same way and checks that nothing was stored: the method ran, and its error went through. */
  async function expectNotStored(subject: Upstream, call: () => Promise<unknown>): Promise<void> {
    const probe = new StoringProbeError('the method ran and failed');
    subject.failWith = probe;
    try {
      expect(await rejection(call())).toBe(probe);
    } finally {
      subject.failWith = undefined;
    }
  }

  /** What the strategy stores for `value`. */
  const storedForm = (value: unknown) => (strategy.envelope ? { v: value, at: expect.any(Number) } : value);

  /** Stored entries under `pattern`, sorted, without the hit counters kept beside them. */
  async function entriesOf(pattern: string): Promise<string[]> {
    const all = await keysOf(cache, pattern);
    return strategy.hitCounter ? all.filter((key) => !key.endsWith(':hits')) : all;
  }

  /**
   * When `count` concurrent callers have all joined a run of `subject` (served by `on`): a hit strategy's callers
   * have each read the store (plus `extraReads`, e.g. the lock holder's second look) and one of them runs the
   * method; `@Failover` runs the method for every caller.
   */
  function joinedRun(on: CacheService, subject: Upstream, count: number, extraReads = 0): () => boolean {
    const calls = subject.calls;
    const reads = readsOf(on);
    return fallback
      ? () => subject.calls - calls >= count
      : () => readsOf(on) - reads >= count + extraReads && subject.calls > calls;
  }

  describe('stores and serves', () => {
    it(
      fallback
        ? 'runs the method on every call and keeps the last success under the default key'
        : 'stores the result under the default key and serves it without running the method again',
      async () => {
        expect(await users.get(1)).toEqual({ id: 1, n: 1 });
        const second = await users.get(1);
        expect(second).toEqual({ id: 1, n: fallback ? 2 : 1 });
        expect(users.calls).toBe(fallback ? 2 : 1);
        const key = await storedKey(cache, `${st}Users:get`, '1');
        expect(await cache.get(key)).toEqual(storedForm(second));
        expect(await fromStore(users, () => users.get(1))).toEqual(second);
        if (strategy.hitCounter) expect(await cache.get(`${key}:hits`)).toBe(2);
      },
    );

    it('the stored value is a copy: changing the result the method returned leaves it as it was', async () => {
      const first = await users.get(2);
      first.n = 999;
      const served = await fromStore(users, () => users.get(2));
      expect(served).toEqual({ id: 2, n: 1 });
      if (backendUrl.startsWith('mem:')) {
        // mem:// hands every read the one stored copy, to be treated as read-only (README, the memory backend).
        expect(await fromStore(users, () => users.get(2))).toBe(served);
      } else {
        // Redis decodes every read: what a caller does with it stays with that caller.
        served.n = 998;
        expect(await fromStore(users, () => users.get(2))).toEqual({ id: 2, n: 1 });
      }
    });

    it('an entry lives for its ttl, then nothing is served', async () => {
      expect(await users.short(1)).toEqual({ id: 1, n: 1 });
      const left = await cache.getExpire(await storedKey(cache, `${st}Users:short`, '1'));
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(300);
      await sleep(500);
      await expectNotStored(users, () => users.short(1));
    });

    it('null and undefined results are stored by default', async () => {
      expect(await conditions.nullish('null')).toBeNull();
      expect(await conditions.nullish('undefined')).toBeUndefined();
      expect(await fromStore(conditions, () => conditions.nullish('null'))).toBeNull();
      expect(await fromStore(conditions, () => conditions.nullish('undefined'))).toBeUndefined();
      expect(await hasDefaultKey(cache, `${st}Conditions:nullish`, 'null')).toBe(true);
      expect(await hasDefaultKey(cache, `${st}Conditions:nullish`, 'undefined')).toBe(true);
    });

    it("errors are not stored: the caller gets the method's own error, and a later success is stored", async () => {
      const error = new StoringUpstreamError('down');
      users.failWith = error;
      expect(await rejection(users.get(3))).toBe(error);
      expect(await rejection(users.get(3))).toBe(error);
      expect(users.calls).toBe(2);
      expect(await hasDefaultKey(cache, `${st}Users:get`, '3')).toBe(false);
      users.failWith = undefined;
      expect(await users.get(3)).toEqual({ id: 3, n: 3 });
      expect(await fromStore(users, () => users.get(3))).toEqual({ id: 3, n: 3 });
    });

    it('without a ttl, the instance default TTL applies', async () => {
      @Injectable()
      class Defaults extends Upstream {
        static {
          rename(this, `${st}Defaults`);
        }

        @decorate({})
        async get(id: number) {
          return this.run(() => ({ id, n: this.calls }));
        }
      }
      const started = await startApp(backendUrl, [Defaults], { ttl: '5m' });
      const defaults = started.app.get(Defaults);
      expect(await defaults.get(1)).toEqual({ id: 1, n: 1 });
      const left = await started.cache.getExpire(await storedKey(started.cache, `${st}Defaults:get`, '1'));
      expect(left).toBeGreaterThan(FIVE_MINUTES - 5_000);
      expect(left).toBeLessThanOrEqual(FIVE_MINUTES);
      expect(await fromStore(defaults, () => defaults.get(1))).toEqual({ id: 1, n: 1 });
    });

    if (strategy.ttlFunction) {
      it('ttl may be computed from the result', async () => {
        @Injectable()
        class Tokens extends Upstream {
          static {
            rename(this, `${st}Tokens`);
          }

          @decorate({ ttl: (result) => (result as { expiresIn: number }).expiresIn })
          async token(expiresIn: number) {
            return this.run(() => ({ expiresIn, n: this.calls }));
          }
        }
        const started = await startApp(backendUrl, [Tokens]);
        const tokens = started.app.get(Tokens);
        expect(await tokens.token(300)).toEqual({ expiresIn: 300, n: 1 });
        expect(await tokens.token(10_000)).toEqual({ expiresIn: 10_000, n: 2 });
        const short = await started.cache.getExpire(await storedKey(started.cache, `${st}Tokens:token`, '300'));
        const long = await started.cache.getExpire(await storedKey(started.cache, `${st}Tokens:token`, '10000'));
        expect(short).toBeGreaterThan(0);
        expect(short).toBeLessThanOrEqual(300);
        expect(long).toBeGreaterThan(5_000);
        await sleep(500);
        await expectNotStored(tokens, () => tokens.token(300));
        expect(await fromStore(tokens, () => tokens.token(10_000))).toEqual({ expiresIn: 10_000, n: 2 });
      });
    }
  });

  describe('keys', () => {
    it('the default key holds the class name: two classes with the same method and arguments do not collide', async () => {
      expect(await users.get(7)).toEqual({ id: 7, n: 1 });
      expect(await orders.get(7)).toEqual({ order: 7, n: 1 });
      expect(await fromStore(users, () => users.get(7))).toEqual({ id: 7, n: 1 });
      expect(await fromStore(orders, () => orders.get(7))).toEqual({ order: 7, n: 1 });
      const stored = await entriesOf(`${st}*`);
      expect(stored).toHaveLength(2);
      expect(stored[0]).toMatch(defaultKeyPattern(`${st}Orders:get`, '7'));
      expect(stored[1]).toMatch(defaultKeyPattern(`${st}Users:get`, '7'));
    });

    it('each argument list has its own entry; one never called is not served', async () => {
      const lists: Array<[unknown, unknown]> = [
        [1, 'x'],
        [2, 'x'],
        ['a', 'b'],
        ['b', 'a'],
        ['a:b', undefined],
      ];
      for (const [a, b] of lists) await users.two(a, b);
      expect(users.calls).toBe(lists.length);
      expect(await entriesOf(`${st}Users:two*`)).toHaveLength(lists.length);
      for (const [i, [a, b]] of lists.entries()) {
        expect(await fromStore(users, () => users.two(a, b))).toBe(`${String(a)}/${String(b)}#${i + 1}`);
      }
      await expectNotStored(users, () => users.two('a', 'b:'));
    });

    it('null, undefined, "null" and "undefined" are distinct arguments', async () => {
      const ids = [null, undefined, 'null', 'undefined'];
      for (const id of ids) await users.get(id);
      expect(users.calls).toBe(4);
      for (const [i, id] of ids.entries())
        expect(await fromStore(users, () => users.get(id))).toEqual({ id, n: i + 1 });
      expect(await defaultKeysOf(cache, `${st}Users:get`, '%null')).toHaveLength(1);
      expect(await defaultKeysOf(cache, `${st}Users:get`, '%undefined')).toHaveLength(1);
      expect(await defaultKeysOf(cache, `${st}Users:get`, 'null')).toHaveLength(1);
      expect(await entriesOf(`${st}Users:get*`)).toHaveLength(4);
    });

    it('numbers and strings with the same text are distinct arguments (issue #9), objects are keyed stably', async () => {
      await users.get(42);
      await users.get('42');
      expect(await fromStore(users, () => users.get(42))).toEqual({ id: 42, n: 1 });
      expect(await fromStore(users, () => users.get('42'))).toEqual({ id: '42', n: 2 });
      const object = await users.get({ b: 2, a: 1 });
      expect(await fromStore(users, () => users.get({ a: 1, b: 2 }))).toEqual(object);
      expect(await entriesOf(`${st}Users:get*`)).toHaveLength(3);
    });

    it('key template "<tag>StUser:{id}" ignores other arguments', async () => {
      expect(await keys.byId(5, 'x')).toBe('user-5#1');
      expect(await fromStore(keys, () => keys.byId(5, 'y'))).toBe('user-5#1');
      expect(await keys.byId(6)).toMatch(/^user-6#/);
      expect(await entriesOf(`${st}User:*`)).toEqual([`${st}User:5`, `${st}User:6`]);
    });

    it("key template '{user.id}' reads a property path", async () => {
      expect(await keys.byPath({ id: `${st}Path1`, name: 'ann' })).toBe('ann#1');
      expect(await fromStore(keys, () => keys.byPath({ id: `${st}Path1`, name: 'bob' }))).toBe('ann#1');
      expect(await keys.byPath({ id: `${st}Path2`, name: 'bob' })).toMatch(/^bob#/);
      expect(await entriesOf(`${st}Path*`)).toEqual([`${st}Path1`, `${st}Path2`]);
    });

    it("key template '{0}' reads an argument by position", async () => {
      expect(await keys.byIndex(`${st}Idx`, 'a')).toBe(`${st}Idx#1`);
      expect(await fromStore(keys, () => keys.byIndex(`${st}Idx`, 'b'))).toBe(`${st}Idx#1`);
      expect(await cache.get(`${st}Idx`)).toEqual(storedForm(`${st}Idx#1`));
    });

    it("key template '{q:hash}' stores under a digest of the argument", async () => {
      expect(await keys.search({ text: 'shoes', page: 2 })).toBe('shoes:2#1');
      expect(await fromStore(keys, () => keys.search({ page: 2, text: 'shoes' }))).toBe('shoes:2#1');
      expect(await keys.search({ text: 'shoes', page: 3 })).toMatch(/^shoes:3#/);
      const digest = createHash('sha1').update('{"page":2,"text":"shoes"}').digest('hex');
      expect(await cache.get(`${st}Search:${digest}`)).toEqual(storedForm('shoes:2#1'));
      expect(await entriesOf(`${st}Search:*`)).toHaveLength(2);
    });

    it('prefix is prepended to the default key and to a template', async () => {
      expect(await keys.prefixed(1)).toBe('p1#1');
      expect(await keys.prefixedTemplate(1)).toBe('i1#2');
      expect(await fromStore(keys, () => keys.prefixed(1))).toBe('p1#1');
      expect(await fromStore(keys, () => keys.prefixedTemplate(1))).toBe('i1#2');
      const stored = await entriesOf(`${st}Pfx*`);
      expect(stored).toHaveLength(2);
      expect(stored[0]).toBe(`${st}Pfx2:item:1`);
      expect(stored[1]).toMatch(defaultKeyPattern(`${st}Pfx:${st}Keys:prefixed`, '1'));
    });
  });

  describe('conditions', () => {
    it("condition 'notNullish' does not store null or undefined", async () => {
      expect(await conditions.notNullish(null)).toBeNull();
      expect(await conditions.notNullish(undefined)).toBeUndefined();
      await expectNotStored(conditions, () => conditions.notNullish(null));
      await expectNotStored(conditions, () => conditions.notNullish(undefined));
      expect(await conditions.notNullish('v')).toBe('v');
      expect(await fromStore(conditions, () => conditions.notNullish('v'))).toBe('v');
      const stored = await entriesOf(`${st}Conditions:*`);
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatch(defaultKeyPattern(`${st}Conditions:notNullish`, 'v'));
    });

    it('a custom condition receives the result and the arguments, and decides what is stored', async () => {
      expect(await conditions.custom('a')).toBe('a#1');
      expect(await conditions.custom('skip')).toBe('skip#2');
      expect(await conditions.custom('bad')).toBe('nope');
      expect(seen).toEqual([
        { result: 'a#1', args: ['a'] },
        { result: 'skip#2', args: ['skip'] },
        { result: 'nope', args: ['bad'] },
      ]);
      expect(await fromStore(conditions, () => conditions.custom('a'))).toBe('a#1');
      await expectNotStored(conditions, () => conditions.custom('skip'));
      await expectNotStored(conditions, () => conditions.custom('bad'));
    });
  });

  describe('concurrency', () => {
    const runs = (count: number) => (fallback ? count : 1);

    it(
      fallback
        ? '1000 concurrent cold calls each run the method, and the last success is kept'
        : '1000 concurrent cold calls run the method exactly once and all get the value',
      async () => {
        const settled = await heldCalls(users, 1000, () => users.slow(9), joinedRun(cache, users, 1000));
        expect(users.calls).toBe(runs(1000));
        const values = settled.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : outcome.reason));
        expect(values.every((value) => value.id === 9 && value.n === users.calls)).toBe(true);
        expect(await fromStore(users, () => users.slow(9))).toEqual({ id: 9, n: runs(1000) });
      },
    );

    it('concurrent callers of a failing run all get its error, and nothing is stored', async () => {
      const error = new StoringUpstreamError('down');
      users.failWith = error;
      const settled = await heldCalls(users, 20, () => users.slow(2), joinedRun(cache, users, 20));
      users.failWith = undefined;
      expect(settled.every((outcome) => outcome.status === 'rejected' && outcome.reason === error)).toBe(true);
      expect(users.calls).toBe(runs(20));
      expect(await keysOf(cache, `${st}Users:slow*`)).toEqual([]);
    });

    if (strategy.stampedeLock) {
      it('with lock: true, 1000 concurrent cold calls run the method once and the lock is released', async () => {
        @Injectable()
        class Locked extends Upstream {
          static {
            rename(this, `${st}Locked`);
          }

          @decorate({ ttl: '10s', lock: true, step: '5ms' })
          async get(id: number) {
            return this.run(() => ({ id, n: this.calls }));
          }
        }
        const started = await startApp(backendUrl, [Locked]);
        const locked = started.app.get(Locked);
        // The lock holder reads the store once more before it runs the method.
        const joined = joinedRun(started.cache, locked, 1000, 1);
        const settled = await heldCalls(locked, 1000, () => locked.get(3), joined);
        expect(locked.calls).toBe(1);
        expect(settled.every((outcome) => outcome.status === 'fulfilled' && outcome.value.n === 1)).toBe(true);
        expect(await defaultKeysOf(started.cache, `${st}Locked:get`, '3')).toHaveLength(1);
        expect(await protectionKeysOf(started.cache, `${st}Locked:get*:stampede`)).toEqual([]);
      });
    } else {
      it('lock: true is refused when the decorator is applied: the strategy has no stampede lock', () => {
        expect(() => decorate({ ttl: '10s', lock: true })).toThrow(CashewsConfigError);
        expect(() => decorate({ ttl: '10s', lock: true })).toThrow(/unknown option "lock"/);
      });
    }
  });

  describe('detection', () => {
    it('reports nothing for a call that ran, and the strategy, key and ttl left of a served value', async () => {
      expect(await CacheDetect.run(() => users.get(1))).toEqual({ result: { id: 1, n: 1 }, hits: [] });
      const { result, hits } = await CacheDetect.run(() => fromStore(users, () => users.get(1)));
      expect(result).toEqual({ id: 1, n: 1 });
      expect(hits).toHaveLength(1);
      expect(hits[0]).toMatchObject({
        key: expect.stringMatching(defaultKeyPattern(`${st}Users:get`, '1')),
        strategy: strategy.name,
      });
      expect(hits[0].ttl).toBeGreaterThan(5_000);
      expect(hits[0].ttl).toBeLessThanOrEqual(10_000);
      // @Failover answers only for a failed run: the value is stale, and the error is named.
      expect(hits[0].stale).toBe(fallback ? true : undefined);
      expect(hits[0].exception).toBe(fallback ? 'StoringProbeError' : undefined);
    });
  });

  describe('where it applies', () => {
    it('on a controller handler, a stored response body answers a later request', async () => {
      @Controller(`${st.toLowerCase()}-items`)
      class Items extends Upstream {
        static {
          rename(this, `${st}Items`);
        }

        @Get(':id')
        @decorate({ ttl: '10s' })
        async item(@Param('id') id: string) {
          try {
            return await this.run(() => ({ id, n: this.calls }));
          } catch {
            throw new ServiceUnavailableException(`item ${id} is down`);
          }
        }
      }
      const started = await startApp(backendUrl, [], { controllers: [Items] });
      const items = started.app.get(Items);
      const server = started.app.getHttpServer();
      const path = `/${st.toLowerCase()}-items`;
      expect((await request(server).get(`${path}/7`).expect(200)).body).toEqual({ id: '7', n: 1 });
      items.failWith = new StoringProbeError('down');
      expect((await request(server).get(`${path}/7`).expect(200)).body).toEqual({ id: '7', n: 1 });
      expect(items.calls).toBe(fallback ? 2 : 1);
      // Another route argument has nothing stored: the handler runs, and its error goes through.
      await request(server).get(`${path}/8`).expect(503);
      expect(items.calls).toBe(fallback ? 3 : 2);
    });

    if (backendUrl.startsWith('redis')) {
      it('safe mode: on a Redis that does not answer, every call runs and answers, and nothing is served', async () => {
        const started = await startApp('redis://127.0.0.1:1/0?connect_timeout=200ms', [Users]);
        const dead = started.app.get(Users);
        expect(await CacheDetect.run(() => dead.get(1))).toEqual({ result: { id: 1, n: 1 }, hits: [] });
        expect(await dead.get(1)).toEqual({ id: 1, n: 2 });
        await expectNotStored(dead, () => dead.get(1));
        expect(dead.calls).toBe(3);
      });
    }
  });
}
