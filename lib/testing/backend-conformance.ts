/**
 * What every {@link Backend} must do, run on the backend itself (no CacheService, no codec): the key-value contract
 * and every primitive of lib/primitives/, with exact answers under concurrency. Framework-neutral: the test
 * functions come from the caller (Jest, Vitest and node:test all fit) and the checks are node:assert's.
 *
 * Each test gets a fresh backend from `create()` (connected here) and a unique key prefix; the backend is cleared
 * and closed after it. Raw values are strings, so every backend can hold them. Tests whose subject is time run on
 * the caller's fake timers when `fakeTimers` is given (in-process backends: nothing waits on a socket or a timer of
 * its own), otherwise on real time with TTLs of at least 300 ms and bounded polling.
 */
import assert from 'node:assert/strict';
import type { Backend } from '../backends/backend.interface.js';
import type { CircuitOp, CircuitSettings } from '../backends/protect-types.js';
import { PROTECTED_PREFIX, protectedKey } from '../keys/protected-keys.js';
import { circuitPrimitive } from '../primitives/circuit.primitive.js';
import { fixedWindowPrimitive } from '../primitives/fixed-window.primitive.js';
import { incrPrimitive } from '../primitives/incr.primitive.js';
import { setLockPrimitive } from '../primitives/set-lock.primitive.js';
import { slidingWindowPrimitive } from '../primitives/sliding-window.primitive.js';
import { unlockPrimitive } from '../primitives/unlock.primitive.js';
import { countKeys } from '../backends/count-keys.js';
import { applyInOrder } from '../transactions/apply-in-order.js';
import { getBitsPrimitive } from '../primitives/get-bits.primitive.js';
import { getRawPrimitive } from '../primitives/get-raw.primitive.js';
import { getSizePrimitive } from '../primitives/get-size.primitive.js';
import { incrBitsPrimitive } from '../primitives/incr-bits.primitive.js';
import { setAddPrimitive } from '../primitives/set-add.primitive.js';
import { setPopPrimitive } from '../primitives/set-pop.primitive.js';
import { setRemovePrimitive } from '../primitives/set-remove.primitive.js';
import { sliceIncrPrimitive } from '../primitives/slice-incr.primitive.js';
import {
  assertAbove,
  assertAtLeast,
  assertAtMost,
  assertBelow,
  assertMatches,
  assertRejectsWithCode,
} from './assertions.js';
import type { FakeTimers, TestFunctions } from './test-functions.js';

/** Options of {@link runBackendConformance}. */
export interface BackendConformanceOptions {
  /** Shown in the name of the outer `describe`: `backend conformance: <name>`. */
  name: string;
  /** A new, unconnected backend for each test (the suite connects, clears and closes it). */
  create: () => Backend | Promise<Backend>;
  /** The test runner's `describe`, `it`, `beforeEach` and `afterEach`. */
  test: TestFunctions;
  /**
   * The runner's fake timers, for a backend living in this process: the tests whose subject is time then run
   * without waiting. Leave it out for a backend behind a network (its server's clock cannot be faked).
   */
  fakeTimers?: FakeTimers;
  /** Start of every key the suite writes (default `conf:`): lets a prefix router send them to one route. */
  keyPrefix?: string;
}

/** The code of `CacheValueError`, compared instead of the class: a backend may hold another copy of the package. */
const CACHE_VALUE = 'CASHEWS_VALUE';
/** How long real-time polling may take beyond the time a test waits for. */
const POLL_SLACK_MS = 3_000;
const POLL_STEP_MS = 25;
const CONCURRENCY = 200;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const key of iterable) out.push(key);
  return out;
}

const sorted = (values: readonly string[]): string[] => [...values].sort();

/** The clock of a test: fake timers moved by hand, or real time waited for. */
interface Time {
  /** Lets `ms` pass (fake: at once; real: sleeps, only where the test needs the time gone). */
  elapse(ms: number): Promise<void>;
  /**
   * Asserts that `check` holds once more than `ms` have passed (fake time: exactly 1 ms more; real time: polled, up
   * to {@link POLL_SLACK_MS} more).
   */
  eventually(ms: number, check: () => Promise<boolean>): Promise<void>;
  /** Fake time: lets all but 1 ms of `ms` pass, to check the state just before a deadline; real time: nothing. */
  justBefore(ms: number): Promise<void>;
  readonly fake: boolean;
}

function fakeTime(timers: FakeTimers): Time {
  return {
    async elapse(ms) {
      await timers.advance(ms);
    },
    async eventually(ms, check) {
      // A TTL of `ms` still holds at `ms` (0 ms left, as on Redis): the check runs 1 ms past it.
      await timers.advance(ms + 1);
      assert.equal(await check(), true, `condition still false ${ms + 1} ms later (fake time)`);
    },
    async justBefore(ms) {
      await timers.advance(ms - 1);
    },
    fake: true,
  };
}

const realTime: Time = {
  elapse: sleep,
  async eventually(ms, check) {
    const deadline = Date.now() + ms + POLL_SLACK_MS;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`condition still false ${ms + POLL_SLACK_MS} ms later`);
      await sleep(POLL_STEP_MS);
    }
  },
  async justBefore() {},
  fake: false,
};

/**
 * Registers the backend conformance suite with the caller's test runner: what a backend of your own (see
 * `registerBackend`) must pass, and what the built-in ones pass. Real-time tests wait up to a few seconds: give the
 * runner a test timeout of 15 s or more for a networked backend.
 * @example
 * ```ts
 * // backend.spec.ts, under Jest (Vitest: import the same names from 'vitest', and vi for the fake timers).
 * import { afterEach, beforeEach, describe, it, jest } from '@jest/globals';
 * import { MemoryBackend } from 'nestjs-cashews';
 * import { runBackendConformance } from 'nestjs-cashews/testing';
 *
 * runBackendConformance({
 *   name: 'my backend',
 *   create: () => new MemoryBackend({ size: 100_000, checkInterval: 0 }),
 *   test: { describe, it, beforeEach, afterEach },
 *   fakeTimers: {
 *     install: () => void jest.useFakeTimers(),
 *     advance: (ms) => void jest.advanceTimersByTime(ms),
 *     uninstall: () => void jest.useRealTimers(),
 *   },
 * });
 * ```
 */
export function runBackendConformance(options: BackendConformanceOptions): void {
  const { name, create, fakeTimers } = options;
  const { describe, it, beforeEach, afterEach } = options.test;
  const keyPrefix = options.keyPrefix ?? 'conf:';
  let testIndex = 0;

  /** Registers a fresh backend per test in the enclosing describe; `timed`: fake timers when the caller gave some. */
  function lifecycle(timed: boolean) {
    const fake = timed ? fakeTimers : undefined;
    const state = { backend: undefined as unknown as Backend, prefix: '' };
    beforeEach(async () => {
      // Before the backend exists: its clock must be the fake one from the start.
      if (fake) await fake.install();
      testIndex += 1;
      state.prefix = `${keyPrefix}${testIndex}:${Date.now().toString(36)}:`;
      state.backend = await create();
      await state.backend.connect();
    });
    afterEach(async () => {
      try {
        await state.backend.clear();
      } finally {
        await state.backend.close();
        if (fake) await fake.uninstall();
      }
    });
    return {
      get b(): Backend {
        return state.backend;
      },
      k: (suffix: string): string => `${state.prefix}${suffix}`,
      time: fake ? fakeTime(fake) : realTime,
    };
  }

  describe(`backend conformance: ${name}`, () => {
    describe('key-value', () => {
      const t = lifecycle(false);

      it('ping answers PONG or echoes the message', async () => {
        assert.equal(await t.b.ping(), 'PONG');
        assert.equal(await t.b.ping('hello'), 'hello');
      });

      it('get, set, exists and overwrite', async () => {
        assert.equal(await t.b.get(t.k('a')), undefined);
        assert.equal(await t.b.exists(t.k('a')), false);
        assert.equal(await t.b.set(t.k('a'), 'one'), true);
        assert.equal(await t.b.get(t.k('a')), 'one');
        assert.equal(await t.b.exists(t.k('a')), true);
        assert.equal(await t.b.set(t.k('a'), 'two'), true);
        assert.equal(await t.b.get(t.k('a')), 'two');
        assert.equal(await t.b.set(t.k('empty'), ''), true);
        assert.equal(await t.b.get(t.k('empty')), '');
      });

      it('set with exist: true only overwrites, exist: false only creates', async () => {
        assert.equal(await t.b.set(t.k('x'), 'v', { exist: true }), false);
        assert.equal(await t.b.exists(t.k('x')), false);
        assert.equal(await t.b.set(t.k('x'), 'v1', { exist: false }), true);
        assert.equal(await t.b.set(t.k('x'), 'v2', { exist: false }), false);
        assert.equal(await t.b.get(t.k('x')), 'v1');
        assert.equal(await t.b.set(t.k('x'), 'v3', { exist: true }), true);
        assert.equal(await t.b.get(t.k('x')), 'v3');
      });

      it('getMany answers in input order, undefined for misses, repeated keys included', async () => {
        await t.b.set(t.k('a'), 'A');
        await t.b.set(t.k('b'), 'B');
        assert.deepEqual(await t.b.getMany([t.k('b'), t.k('missing'), t.k('a'), t.k('b')]), ['B', undefined, 'A', 'B']);
        assert.deepEqual(await t.b.getMany([]), []);
      });

      it('setMany writes every entry, with one TTL or none', async () => {
        await t.b.setMany([
          [t.k('a'), '1'],
          [t.k('b'), '2'],
        ]);
        await t.b.setMany(
          [
            [t.k('c'), '3'],
            [t.k('d'), '4'],
          ],
          60_000,
        );
        await t.b.setMany([]);
        assert.deepEqual(await t.b.getMany([t.k('a'), t.k('b'), t.k('c'), t.k('d')]), ['1', '2', '3', '4']);
        assert.equal(await t.b.getExpire(t.k('a')), -1);
        for (const key of [t.k('c'), t.k('d')]) {
          const left = await t.b.getExpire(key);
          assertAbove(left, 0);
          assertAtMost(left, 60_000);
        }
      });

      it('delete and deleteMany report what existed', async () => {
        await t.b.setMany([
          [t.k('a'), '1'],
          [t.k('b'), '2'],
          [t.k('c'), '3'],
        ]);
        assert.equal(await t.b.delete(t.k('a')), true);
        assert.equal(await t.b.delete(t.k('a')), false);
        assert.equal(await t.b.deleteMany([t.k('b'), t.k('missing'), t.k('c')]), 2);
        assert.equal(await t.b.deleteMany([]), 0);
        assert.deepEqual(await t.b.getMany([t.k('a'), t.k('b'), t.k('c')]), [undefined, undefined, undefined]);
      });

      it('TTLs: set with a ttl, a plain set clears it, expire applies to existing keys only', async () => {
        assert.equal(await t.b.getExpire(t.k('missing')), -2);
        await t.b.set(t.k('a'), 'v', { ttl: 60_000 });
        const left = await t.b.getExpire(t.k('a'));
        assertAbove(left, 0);
        assertAtMost(left, 60_000);
        await t.b.set(t.k('a'), 'w');
        assert.equal(await t.b.getExpire(t.k('a')), -1);
        assert.equal(await t.b.expire(t.k('missing'), 60_000), false);
        assert.equal(await t.b.exists(t.k('missing')), false);
        assert.equal(await t.b.expire(t.k('a'), 30_000), true);
        const after = await t.b.getExpire(t.k('a'));
        assertAbove(after, 0);
        assertAtMost(after, 30_000);
        assert.equal(await t.b.get(t.k('a')), 'w');
      });

      it('scan: `*` is the only wildcard, each key once; `?` and brackets are literal', async () => {
        const keys = ['user:1', 'user:2', 'user:10', 'other:1', 'odd?', 'odd[x]', 'oddx'].map(t.k);
        await t.b.setMany(keys.map((key) => [key, 'v'] as const));
        assert.deepEqual(
          sorted(await collect(t.b.scan(t.k('user:*')))),
          sorted(['user:1', 'user:2', 'user:10'].map(t.k)),
        );
        assert.deepEqual(sorted(await collect(t.b.scan(t.k('*')))), sorted(keys));
        assert.deepEqual(await collect(t.b.scan(t.k('odd?'))), [t.k('odd?')]);
        assert.deepEqual(await collect(t.b.scan(t.k('odd[x]'))), [t.k('odd[x]')]);
        assert.deepEqual(await collect(t.b.scan(t.k('user:1'))), [t.k('user:1')]);
        assert.deepEqual(await collect(t.b.scan(t.k('nothing:*'))), []);
      });

      it('scan leaves protection state out unless the pattern names its namespace', async () => {
        await t.b.set(t.k('plain'), 'v');
        await t.b.set(protectedKey(t.k('lock')), 'token');
        const everything = await collect(t.b.scan('*'));
        assert.ok(everything.includes(t.k('plain')));
        assert.deepEqual(
          everything.filter((key) => key.startsWith(PROTECTED_PREFIX)),
          [],
        );
        assert.deepEqual(await collect(t.b.scan(`*${t.k('lock')}`)), []);
        assert.deepEqual(await collect(t.b.scan(protectedKey(t.k('*')))), [protectedKey(t.k('lock'))]);
      });

      it('deleteMatch deletes and counts matching keys only, protection state included only when named', async () => {
        await t.b.setMany(['a:1', 'a:2', 'a:3', 'b:1'].map((suffix) => [t.k(suffix), 'v'] as const));
        await t.b.set(protectedKey(t.k('a:lock')), 'token');
        assert.equal(await t.b.deleteMatch(t.k('a:*')), 3);
        assert.equal(await t.b.deleteMatch(t.k('a:*')), 0);
        assert.equal(await t.b.exists(t.k('b:1')), true);
        assert.equal(await t.b.exists(protectedKey(t.k('a:lock'))), true);
        assert.equal(await t.b.deleteMatch(protectedKey(t.k('a:*'))), 1);
        assert.equal(await t.b.exists(protectedKey(t.k('a:lock'))), false);
      });

      it('deleteMatch over more keys than one batch', async () => {
        const keys = Array.from({ length: 1_200 }, (_, i) => t.k(`many:${i}`));
        await t.b.setMany(keys.map((key) => [key, 'v'] as const));
        assert.equal(await t.b.deleteMatch(t.k('many:*')), keys.length);
        assert.deepEqual(await collect(t.b.scan(t.k('many:*'))), []);
      });

      it('clear removes every key, protection state included', async () => {
        await t.b.set(t.k('a'), 'v');
        await t.b.set(protectedKey(t.k('lock')), 'token');
        await t.b.setTagged(t.k('tagged'), 'v', ['conf-tag']);
        await t.b.clear();
        assert.deepEqual(await t.b.getMany([t.k('a'), protectedKey(t.k('lock')), t.k('tagged')]), [
          undefined,
          undefined,
          undefined,
        ]);
        assert.equal(await t.b.deleteTags(['conf-tag']), 0);
      });

      it('setTagged writes like set (exist included); deleteTags removes tagged keys once and counts them', async () => {
        const tag = (name: string): string => `${t.k('')}${name}`;
        assert.equal(await t.b.setTagged(t.k('a'), 'A', [tag('t1'), tag('t2')]), true);
        assert.equal(await t.b.setTagged(t.k('b'), 'B', [tag('t2')], { ttl: 60_000 }), true);
        assert.equal(await t.b.setTagged(t.k('b'), 'B2', [tag('t2')], { exist: false }), false);
        assert.equal(await t.b.setTagged(t.k('none'), 'N', [tag('t3')], { exist: true }), false);
        await t.b.set(t.k('untagged'), 'U');
        assert.equal(await t.b.get(t.k('b')), 'B');
        const left = await t.b.getExpire(t.k('b'));
        assertAbove(left, 0);
        assertAtMost(left, 60_000);
        assert.equal(await t.b.deleteTags([tag('t1'), tag('t2'), tag('t3')]), 2);
        assert.deepEqual(await t.b.getMany([t.k('a'), t.k('b'), t.k('untagged')]), [undefined, undefined, 'U']);
        assert.equal(await t.b.deleteTags([tag('t1'), tag('t2')]), 0);
      });

      it('a deleted key leaves its tags; an overwrite without tags keeps them', async () => {
        const tag = `${t.k('')}tag`;
        await t.b.setTagged(t.k('gone'), 'v', [tag]);
        await t.b.setTagged(t.k('kept'), 'v', [tag]);
        await t.b.delete(t.k('gone'));
        await t.b.set(t.k('gone'), 'recreated without tags');
        await t.b.set(t.k('kept'), 'overwritten without tags');
        assert.equal(await t.b.deleteTags([tag]), 1);
        assert.equal(await t.b.get(t.k('gone')), 'recreated without tags');
        assert.equal(await t.b.exists(t.k('kept')), false);
      });
    });

    describe('transaction commit', () => {
      const t = lifecycle(false);
      /** The backend's own all-or-nothing `commit`, or what the engine does without one. */
      const commit = (writes: Parameters<NonNullable<Backend['commit']>>[0]): Promise<void> =>
        t.b.commit ? t.b.commit(writes) : applyInOrder(t.b, writes);

      it('applies sets (TTL, tags, NX/XX), deletes, increments and expiries in one commit', async () => {
        const tag = `${t.k('')}tag`;
        await t.b.set(t.k('old'), 'old');
        await t.b.setTagged(t.k('tagged-before'), 'x', [tag]);
        await t.b.run(incrPrimitive, t.k('n'), 5, undefined);
        await t.b.set(t.k('taken'), 'theirs');
        await t.b.set(t.k('to-expire'), 'e');
        await commit([
          { op: 'set', key: t.k('a'), raw: 'A', ttl: 60_000 },
          { op: 'set', key: t.k('b'), raw: 'B', tags: [tag] },
          { op: 'set', key: t.k('taken'), raw: 'ours', exist: false },
          { op: 'set', key: t.k('absent'), raw: 'xx', exist: true },
          { op: 'delete', key: t.k('old') },
          { op: 'incr', key: t.k('n'), by: 3 },
          { op: 'incr', key: t.k('fresh'), by: 2, ttl: 60_000 },
          { op: 'expire', key: t.k('to-expire'), ttl: 30_000 },
        ]);
        assert.deepEqual(await t.b.getMany([t.k('a'), t.k('b'), t.k('taken'), t.k('absent'), t.k('old')]), [
          'A',
          'B',
          'theirs',
          undefined,
          undefined,
        ]);
        assert.equal(await t.b.run(incrPrimitive, t.k('n'), 0, undefined), 8);
        assert.equal(await t.b.run(incrPrimitive, t.k('fresh'), 0, undefined), 2);
        assertAbove(await t.b.getExpire(t.k('a')), 50_000);
        assertAbove(await t.b.getExpire(t.k('fresh')), 50_000);
        const expiry = await t.b.getExpire(t.k('to-expire'));
        assertAbove(expiry, 20_000);
        assertAtMost(expiry, 30_000);
        // The commit indexed the tagged write: deleting the tag removes it with the key tagged before.
        assert.equal(await t.b.deleteTags([tag]), 2);
        assert.equal(await t.b.get(t.k('b')), undefined);
      });

      it('a delete then an increment of one key starts the counter over', async () => {
        await t.b.run(incrPrimitive, t.k('c'), 10, undefined);
        await commit([
          { op: 'delete', key: t.k('c') },
          { op: 'incr', key: t.k('c'), by: 1 },
        ]);
        assert.equal(await t.b.run(incrPrimitive, t.k('c'), 0, undefined), 1);
      });

      it('an increment of a value that is no integer fails, and the other writes are applied', async () => {
        await t.b.set(t.k('text'), 'not a number');
        await assert.rejects(
          commit([
            { op: 'set', key: t.k('a'), raw: 'A' },
            { op: 'incr', key: t.k('text'), by: 1 },
            { op: 'set', key: t.k('b'), raw: 'B' },
          ]),
        );
        assert.deepEqual(await t.b.getMany([t.k('a'), t.k('text'), t.k('b')]), ['A', 'not a number', 'B']);
      });
    });

    describe('key-value over time', () => {
      const t = lifecycle(true);
      const TTL = 400;

      it('a value with a ttl is served until it expires, then missing everywhere', async () => {
        await t.b.set(t.k('a'), 'v', { ttl: TTL });
        await t.b.setMany([[t.k('b'), 'w']], TTL);
        // Fake time: still there 1 ms before the TTL, gone 1 ms after it; real time: there now, gone in time.
        await t.time.justBefore(TTL);
        assert.deepEqual(await t.b.getMany([t.k('a'), t.k('b')]), ['v', 'w']);
        await t.time.eventually(t.time.fake ? 1 : TTL, async () => (await t.b.get(t.k('a'))) === undefined);
        await t.time.eventually(0, async () => (await t.b.get(t.k('b'))) === undefined);
        assert.equal(await t.b.exists(t.k('a')), false);
        assert.equal(await t.b.getExpire(t.k('a')), -2);
        assert.deepEqual(await collect(t.b.scan(t.k('*'))), []);
        assert.equal(await t.b.set(t.k('a'), 'again', { exist: false }), true);
      });

      it('expire gives a key without TTL one, after which it expires', async () => {
        await t.b.set(t.k('a'), 'v');
        assert.equal(await t.b.expire(t.k('a'), TTL), true);
        await t.time.eventually(TTL, async () => !(await t.b.exists(t.k('a'))));
      });

      it('a tagged key that expired is no longer counted by deleteTags', async () => {
        const tag = `${t.k('')}tag`;
        await t.b.setTagged(t.k('short'), 'v', [tag], { ttl: TTL });
        await t.b.setTagged(t.k('long'), 'v', [tag]);
        await t.time.eventually(TTL, async () => !(await t.b.exists(t.k('short'))));
        assert.equal(await t.b.deleteTags([tag]), 1);
      });
    });

    describe('primitives', () => {
      const t = lifecycle(false);

      it('incr creates the counter at `by`, then adds (negative too)', async () => {
        assert.equal(await t.b.run(incrPrimitive, t.k('n'), 1, undefined), 1);
        assert.equal(await t.b.run(incrPrimitive, t.k('n'), 10, undefined), 11);
        assert.equal(await t.b.run(incrPrimitive, t.k('n'), -15, undefined), -4);
        assert.equal(await t.b.run(incrPrimitive, t.k('m'), 5, undefined), 5);
        assert.equal(String(await t.b.get(t.k('n'))), '-4');
      });

      it('incr applies its ttl only when it creates the counter, and keeps the remaining TTL after', async () => {
        await t.b.run(incrPrimitive, t.k('n'), 1, 60_000);
        const first = await t.b.getExpire(t.k('n'));
        assertAbove(first, 0);
        assertAtMost(first, 60_000);
        assert.equal(await t.b.run(incrPrimitive, t.k('n'), 1, 600_000), 2);
        const second = await t.b.getExpire(t.k('n'));
        assertAbove(second, 0);
        assertAtMost(second, first);
        await t.b.run(incrPrimitive, t.k('forever'), 1, undefined);
        assert.equal(await t.b.getExpire(t.k('forever')), -1);
        await t.b.run(incrPrimitive, t.k('forever'), 1, 60_000);
        assert.equal(await t.b.getExpire(t.k('forever')), -1);
      });

      it('incr counts on an integer stored as a string and keeps its TTL', async () => {
        await t.b.set(t.k('n'), '41', { ttl: 60_000 });
        assert.equal(await t.b.run(incrPrimitive, t.k('n'), 1, undefined), 42);
        const left = await t.b.getExpire(t.k('n'));
        assertAbove(left, 0);
        assertAtMost(left, 60_000);
        assert.equal(String(await t.b.get(t.k('n'))), '42');
      });

      for (const stored of ['abc', '1.5', '{"a":1}']) {
        it(`incr on ${JSON.stringify(stored)} rejects with CacheValueError and leaves it`, async () => {
          await t.b.set(t.k('bad'), stored);
          await assertRejectsWithCode(t.b.run(incrPrimitive, t.k('bad'), 1, undefined), CACHE_VALUE);
          assert.equal(await t.b.get(t.k('bad')), stored);
        });
      }

      it(`${CONCURRENCY} concurrent incr calls each get a distinct value, and the counter holds them all`, async () => {
        const answers = await Promise.all(
          Array.from({ length: CONCURRENCY }, () => t.b.run(incrPrimitive, t.k('c'), 1, 60_000)),
        );
        assert.deepEqual(
          [...answers].sort((a, b) => a - b),
          Array.from({ length: CONCURRENCY }, (_, i) => i + 1),
        );
        assert.equal(String(await t.b.get(t.k('c'))), String(CONCURRENCY));
      });

      it('setLock takes a free key with its token and TTL; unlock releases only with that token', async () => {
        assert.equal(await t.b.run(setLockPrimitive, t.k('l'), 'me', 60_000), true);
        assert.equal(await t.b.run(setLockPrimitive, t.k('l'), 'you', 60_000), false);
        assert.equal(await t.b.get(t.k('l')), 'me');
        const left = await t.b.getExpire(t.k('l'));
        assertAbove(left, 0);
        assertAtMost(left, 60_000);
        assert.equal(await t.b.run(unlockPrimitive, t.k('l'), 'you'), false);
        assert.equal(await t.b.exists(t.k('l')), true);
        assert.equal(await t.b.run(unlockPrimitive, t.k('l'), 'me'), true);
        assert.equal(await t.b.exists(t.k('l')), false);
        assert.equal(await t.b.run(unlockPrimitive, t.k('l'), 'me'), false);
        assert.equal(await t.b.run(setLockPrimitive, t.k('l'), 'you', 60_000), true);
      });

      it(`of ${CONCURRENCY} concurrent setLock calls exactly one wins, and the key holds its token`, async () => {
        const won = await Promise.all(
          Array.from({ length: CONCURRENCY }, (_, i) => t.b.run(setLockPrimitive, t.k('l'), `token-${i}`, 60_000)),
        );
        const winners = won.flatMap((ok, i) => (ok ? [`token-${i}`] : []));
        assert.equal(winners.length, 1);
        assert.equal(await t.b.get(t.k('l')), winners[0]);
      });

      it('fixedWindow allows `limit` calls, then bans the key for banTtl', async () => {
        const states = [];
        for (let i = 0; i < 5; i++) states.push(await t.b.run(fixedWindowPrimitive, t.k('w'), 3, 60_000, 120_000));
        assert.deepEqual(
          states.map((s) => [s.allowed, s.remaining]),
          [
            [true, 2],
            [true, 1],
            [true, 0],
            [false, 0],
            [false, 0],
          ],
        );
        for (const s of states.slice(0, 3)) {
          assertAbove(s.reset, 0);
          assertAtMost(s.reset, 60_000);
        }
        // Redis reads the ban's PTTL in the script that set it: at most a millisecond may have passed.
        assertAtLeast(states[3].reset, 119_999);
        assertAtMost(states[3].reset, 120_000);
        assertAbove(states[4].reset, 60_000);
        assertAtMost(states[4].reset, 120_000);
        assertAbove(await t.b.getExpire(t.k('w')), 60_000);
      });

      it('fixedWindow: a ban shorter than what is left of the window does not end the window', async () => {
        const states = [];
        for (let i = 0; i < 3; i++) states.push(await t.b.run(fixedWindowPrimitive, t.k('w'), 2, 60_000, 100));
        assertMatches(states[2], { allowed: false, remaining: 0 });
        // The count is what refuses calls inside the window: it lives until the window ends, not the ban.
        assertAbove(states[2].reset, 50_000);
        assertAbove(await t.b.getExpire(t.k('w')), 50_000);
      });

      it(`fixedWindow: of ${CONCURRENCY} concurrent calls with limit 50 exactly 50 are allowed`, async () => {
        const states = await Promise.all(
          Array.from({ length: CONCURRENCY }, () => t.b.run(fixedWindowPrimitive, t.k('w'), 50, 60_000, 60_000)),
        );
        const allowed = states.filter((s) => s.allowed);
        assert.equal(allowed.length, 50);
        assert.deepEqual(
          allowed.map((s) => s.remaining).sort((a, b) => a - b),
          Array.from({ length: 50 }, (_, i) => i),
        );
      });

      it('slidingWindow allows `limit` calls in the period and tells when the oldest leaves', async () => {
        const states = [];
        for (let i = 0; i < 5; i++) states.push(await t.b.run(slidingWindowPrimitive, t.k('s'), 3, 60_000));
        assert.deepEqual(
          states.map((s) => [s.allowed, s.remaining]),
          [
            [true, 2],
            [true, 1],
            [true, 0],
            [false, 0],
            [false, 0],
          ],
        );
        for (const s of states) {
          assertAbove(s.reset, 0);
          assertAtMost(s.reset, 60_000);
        }
      });

      it(`slidingWindow: of ${CONCURRENCY} concurrent calls with limit 50 exactly 50 are allowed`, async () => {
        const states = await Promise.all(
          Array.from({ length: CONCURRENCY }, () => t.b.run(slidingWindowPrimitive, t.k('s'), 50, 60_000)),
        );
        const allowed = states.filter((s) => s.allowed);
        assert.equal(allowed.length, 50);
        assert.deepEqual(
          allowed.map((s) => s.remaining).sort((a, b) => a - b),
          Array.from({ length: 50 }, (_, i) => i),
        );
      });

      it('circuit stays closed below minCalls and the error rate, opens at the threshold', async () => {
        const s: CircuitSettings = { errorsRate: 50, period: 60_000, ttl: 60_000, minCalls: 4, halfOpenTtl: 0 };
        const run = (op: CircuitOp) => t.b.run(circuitPrimitive, t.k('c'), op, s);
        assert.deepEqual(await run('check'), { state: 'closed', allowed: true, trial: false, retryAfter: 0 });
        for (const op of ['ok', 'fail', 'fail'] as const) assertMatches(await run(op), { state: 'closed' });
        assert.deepEqual(await run('fail'), { state: 'open', allowed: false, trial: false, retryAfter: 60_000 });
        const check = await run('check');
        assertMatches(check, { state: 'open', allowed: false, trial: false });
        assertAbove(check.retryAfter, 0);
        assertAtMost(check.retryAfter, 60_000);
        assertMatches(await run('ok'), { state: 'open', allowed: false });
      });

      it(`circuit: of ${CONCURRENCY} concurrent failures with minCalls 100, the 100th opens it`, async () => {
        const s: CircuitSettings = { errorsRate: 50, period: 60_000, ttl: 60_000, minCalls: 100, halfOpenTtl: 0 };
        const states = await Promise.all(
          Array.from({ length: CONCURRENCY }, () => t.b.run(circuitPrimitive, t.k('c'), 'fail', s)),
        );
        assert.equal(states.filter((state) => state.state === 'closed').length, 99);
        assert.equal(states.filter((state) => state.state === 'open').length, CONCURRENCY - 99);
      });

      it('a write by a primitive is seen by the next read of its key', async () => {
        await t.b.set(t.k('n'), '1');
        assert.equal(await t.b.get(t.k('n')), '1');
        await t.b.run(incrPrimitive, t.k('n'), 1, undefined);
        assert.equal(String(await t.b.get(t.k('n'))), '2');
        await t.b.run(setLockPrimitive, t.k('l'), 'me', 60_000);
        assert.equal(await t.b.get(t.k('l')), 'me');
        await t.b.run(unlockPrimitive, t.k('l'), 'me');
        assert.equal(await t.b.get(t.k('l')), undefined);
      });
    });

    describe('primitives over time', () => {
      const t = lifecycle(true);
      const PERIOD = 400;

      it('an expired counter starts again', async () => {
        await t.b.run(incrPrimitive, t.k('n'), 5, PERIOD);
        await t.time.eventually(PERIOD, async () => !(await t.b.exists(t.k('n'))));
        assert.equal(await t.b.run(incrPrimitive, t.k('n'), 1, undefined), 1);
      });

      it('a lock expires after its TTL and another token can take it', async () => {
        assert.equal(await t.b.run(setLockPrimitive, t.k('l'), 'me', PERIOD), true);
        await t.time.justBefore(PERIOD);
        assert.equal(await t.b.run(setLockPrimitive, t.k('l'), 'you', PERIOD), false);
        await t.time.eventually(t.time.fake ? 1 : PERIOD, () => t.b.run(setLockPrimitive, t.k('l'), 'you', 60_000));
        assert.equal(await t.b.get(t.k('l')), 'you');
        assert.equal(await t.b.run(unlockPrimitive, t.k('l'), 'me'), false);
      });

      it('fixedWindow: a new window starts after the period', async () => {
        assertMatches(await t.b.run(fixedWindowPrimitive, t.k('w'), 1, PERIOD, PERIOD), {
          allowed: true,
        });
        await t.time.eventually(
          PERIOD,
          async () => (await t.b.run(fixedWindowPrimitive, t.k('w'), 1, PERIOD, PERIOD)).allowed,
        );
      });

      it('fixedWindow: the ban outlasts the period', async () => {
        const ban = PERIOD * 4;
        await t.b.run(fixedWindowPrimitive, t.k('w'), 1, PERIOD, ban);
        const banned = await t.b.run(fixedWindowPrimitive, t.k('w'), 1, PERIOD, ban);
        assertMatches(banned, { allowed: false, remaining: 0 });
        assertAtLeast(banned.reset, ban - 1);
        await t.time.elapse(PERIOD * 2);
        assertMatches(await t.b.run(fixedWindowPrimitive, t.k('w'), 1, PERIOD, ban), {
          allowed: false,
        });
        await t.time.eventually(ban, async () => !(await t.b.exists(t.k('w'))));
        assertMatches(await t.b.run(fixedWindowPrimitive, t.k('w'), 1, PERIOD, ban), {
          allowed: true,
          remaining: 0,
        });
      });

      it('slidingWindow: calls are allowed again once the oldest left the period', async () => {
        for (const allowed of [true, true, false]) {
          assertMatches(await t.b.run(slidingWindowPrimitive, t.k('s'), 2, PERIOD), { allowed });
        }
        await t.time.eventually(
          PERIOD,
          async () => (await t.b.run(slidingWindowPrimitive, t.k('s'), 2, PERIOD)).allowed,
        );
      });

      it('circuit: after ttl, half-open lets one trial through; its outcome re-opens or closes it', async () => {
        const s: CircuitSettings = { errorsRate: 100, period: 60_000, ttl: PERIOD, minCalls: 1, halfOpenTtl: 60_000 };
        const run = (op: CircuitOp) => t.b.run(circuitPrimitive, t.k('c'), op, s);
        assertMatches(await run('fail'), { state: 'open' });
        await t.time.eventually(PERIOD, async () => (await run('check')).trial);
        const busy = await run('check');
        assertMatches(busy, { state: 'half-open', allowed: false, trial: false });
        assertAbove(busy.retryAfter, 0);
        assertMatches(await run('trial-fail'), { state: 'open', retryAfter: PERIOD });
        assertMatches(await run('check'), { state: 'open', allowed: false });
        await t.time.eventually(PERIOD, async () => (await run('check')).trial);
        assertMatches(await run('trial-ok'), { state: 'closed' });
        assert.deepEqual(await run('check'), { state: 'closed', allowed: true, trial: false, retryAfter: 0 });
      });

      it(`circuit: of ${CONCURRENCY} concurrent checks in half-open exactly one is the trial`, async () => {
        const s: CircuitSettings = { errorsRate: 100, period: 60_000, ttl: PERIOD, minCalls: 1, halfOpenTtl: 60_000 };
        await t.b.run(circuitPrimitive, t.k('c'), 'fail', s);
        await t.time.eventually(PERIOD, async () => {
          const states = await Promise.all(
            Array.from({ length: CONCURRENCY }, () => t.b.run(circuitPrimitive, t.k('c'), 'check', s)),
          );
          if (states.every((state) => state.state === 'open')) return false;
          assert.equal(states.filter((state) => state.trial).length, 1);
          assert.equal(states.filter((state) => state.allowed).length, 1);
          return true;
        });
      });

      it('circuit without half-open closes after ttl', async () => {
        const s: CircuitSettings = { errorsRate: 100, period: 60_000, ttl: PERIOD, minCalls: 1, halfOpenTtl: 0 };
        await t.b.run(circuitPrimitive, t.k('c'), 'fail', s);
        await t.time.eventually(
          PERIOD,
          async () => (await t.b.run(circuitPrimitive, t.k('c'), 'check', s)).state === 'closed',
        );
      });
    });

    // Bitmaps, sliding counters, sets, key count, size and raw values (issue #13).
    describe('data structures', () => {
      const t = lifecycle(false);
      const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

      it('getBits reads zeros from a missing bitmap and creates nothing', async () => {
        assert.deepEqual(await t.b.run(getBitsPrimitive, t.k('bits'), [0, 5, 1_000], 4), [0, 0, 0]);
        assert.deepEqual(await t.b.run(getBitsPrimitive, t.k('bits'), [], 1), []);
        assert.equal(await t.b.exists(t.k('bits')), false);
      });

      it('incrBits counts per index in the order given and saturates at 0 and 2^size - 1', async () => {
        const key = t.k('bits');
        assert.deepEqual(await t.b.run(incrBitsPrimitive, key, [3, 0, 3], 4, 1, undefined), [1, 1, 2]);
        assert.deepEqual(await t.b.run(incrBitsPrimitive, key, [3, 7], 4, 20, undefined), [15, 15]);
        assert.deepEqual(await t.b.run(incrBitsPrimitive, key, [0, 3], 4, -5, undefined), [0, 10]);
        assert.deepEqual(await t.b.run(getBitsPrimitive, key, [0, 1, 3, 7, 8], 4), [0, 0, 10, 15, 0]);
        assert.deepEqual(await t.b.run(incrBitsPrimitive, key, [1], 1, 1, undefined), [1]);
        assert.deepEqual(await t.b.run(incrBitsPrimitive, key, [1], 1, 1, undefined), [1]);
        assert.deepEqual(await t.b.run(incrBitsPrimitive, key, [100], 16, 70_000, undefined), [65_535]);
        assert.deepEqual(await t.b.run(incrBitsPrimitive, key, [2], 2, 0, undefined), [0]);
      });

      it('bits are laid out as Redis lays out a string: a string key is a bitmap of its bytes', async () => {
        await t.b.set(t.k('s'), 'A'); // 0x41: 0100 0001
        assert.deepEqual(await t.b.run(getBitsPrimitive, t.k('s'), [0, 1, 2, 7, 8], 1), [0, 1, 0, 1, 0]);
        assert.deepEqual(await t.b.run(getBitsPrimitive, t.k('s'), [0, 1], 4), [4, 1]);
        assert.deepEqual(await t.b.run(incrBitsPrimitive, t.k('s'), [0], 8, 1, undefined), [66]);
        assert.equal(await t.b.run(getRawPrimitive, t.k('s')), 'B');
        await t.b.run(incrBitsPrimitive, t.k('n'), [1, 2], 8, 0x41, undefined);
        assert.equal(await t.b.run(getRawPrimitive, t.k('n')), '\0AA');
        // A counter of 3 bits across a byte boundary: bits 6..8.
        await t.b.run(incrBitsPrimitive, t.k('x'), [2], 3, 5, undefined);
        assert.deepEqual(await t.b.run(getBitsPrimitive, t.k('x'), [6, 7, 8], 1), [1, 0, 1]);
      });

      it('incrBits applies its ttl only when it creates the bitmap', async () => {
        await t.b.run(incrBitsPrimitive, t.k('b'), [1], 1, 1, 60_000);
        const first = await t.b.getExpire(t.k('b'));
        assertAbove(first, 0);
        assertAtMost(first, 60_000);
        await t.b.run(incrBitsPrimitive, t.k('b'), [90_000], 1, 1, 600_000);
        const second = await t.b.getExpire(t.k('b'));
        assertAbove(second, 0);
        assertAtMost(second, first);
        await t.b.run(incrBitsPrimitive, t.k('forever'), [1], 1, 1, undefined);
        await t.b.run(incrBitsPrimitive, t.k('forever'), [2], 1, 1, 60_000);
        assert.equal(await t.b.getExpire(t.k('forever')), -1);
      });

      it(`${CONCURRENCY} concurrent incrBits on one counter each see a distinct value`, async () => {
        const answers = await Promise.all(
          Array.from({ length: CONCURRENCY }, () => t.b.run(incrBitsPrimitive, t.k('b'), [5], 16, 1, undefined)),
        );
        assert.deepEqual(
          answers.map(([value]) => value).sort((a, b) => a - b),
          range(CONCURRENCY),
        );
        assert.deepEqual(await t.b.run(getBitsPrimitive, t.k('b'), [5], 16), [CONCURRENCY]);
      });

      it('sliceIncr drops entries before start, counts start..end (both included), adds only under max', async () => {
        const slice = (start: number, end: number, max = 5) =>
          t.b.run(sliceIncrPrimitive, t.k('s'), start, end, max, undefined);
        assert.equal(await slice(0, 10), 1);
        assert.equal(await slice(0, 20), 2);
        // 10 is dropped; 20 counted; 30 added.
        assert.equal(await slice(15, 30), 2);
        // 30 lies after this end: kept, not counted.
        assert.equal(await slice(15, 25), 2);
        assert.equal(await slice(15, 30), 4);
        // An entry at `start` is counted; two entries at one `end` are two.
        assert.equal(await slice(20, 30), 5);
        assert.equal(await slice(20, 30), 5);
        assert.equal(await slice(31, 40, 1), 1);
        assert.equal(await slice(31, 40, 1), 1);
        assert.equal(await slice(0, 40, 100), 2);
      });

      it(`sliceIncr: of ${CONCURRENCY} concurrent calls with max 50, exactly 50 are counted`, async () => {
        const answers = await Promise.all(
          Array.from({ length: CONCURRENCY }, () => t.b.run(sliceIncrPrimitive, t.k('s'), 0, 1_000, 50, 60_000)),
        );
        assert.deepEqual(
          [...answers].sort((a, b) => a - b),
          [...range(50), ...Array(CONCURRENCY - 50).fill(50)],
        );
        assert.equal(await t.b.run(sliceIncrPrimitive, t.k('s'), 0, 1_000, 51, 60_000), 51);
      });

      it('sliceIncr sets the ttl when it adds an entry; without one the key keeps none', async () => {
        await t.b.run(sliceIncrPrimitive, t.k('s'), 0, 1, 5, 60_000);
        const left = await t.b.getExpire(t.k('s'));
        assertAbove(left, 0);
        assertAtMost(left, 60_000);
        await t.b.run(sliceIncrPrimitive, t.k('none'), 0, 1, 5, undefined);
        assert.equal(await t.b.getExpire(t.k('none')), -1);
        // A call without ttl keeps the key's TTL, unless `start` emptied the key (a new key then, as on Redis).
        await t.b.run(sliceIncrPrimitive, t.k('s'), 0, 2, 5, undefined);
        assertAbove(await t.b.getExpire(t.k('s')), 0);
        assert.equal(await t.b.run(sliceIncrPrimitive, t.k('s'), 3, 4, 5, undefined), 1);
        assert.equal(await t.b.getExpire(t.k('s')), -1);
      });

      it('setAdd counts new members, setRemove removed ones, setPop takes them; an empty set is gone', async () => {
        const key = t.k('set');
        assert.equal(await t.b.run(setAddPrimitive, key, ['a', 'b', 'a'], undefined), 2);
        assert.equal(await t.b.run(setAddPrimitive, key, ['b', 'c', '', 'é 🥜'], undefined), 3);
        assert.equal(await t.b.run(setAddPrimitive, key, [], undefined), 0);
        assert.equal(await t.b.run(setRemovePrimitive, key, ['a', 'zzz']), 1);
        assert.deepEqual(await t.b.run(setPopPrimitive, key, 0), []);
        const popped = await t.b.run(setPopPrimitive, key, 2);
        assert.equal(popped.length, 2);
        const rest = await t.b.run(setPopPrimitive, key, 10);
        assert.deepEqual(sorted([...popped, ...rest]), sorted(['b', 'c', '', 'é 🥜']));
        assert.equal(await t.b.exists(key), false);
        assert.deepEqual(await t.b.run(setPopPrimitive, key, 3), []);
        await t.b.run(setAddPrimitive, key, ['x'], undefined);
        assert.equal(await t.b.run(setRemovePrimitive, key, ['x']), 1);
        assert.equal(await t.b.exists(key), false);
        assert.equal(await t.b.run(setRemovePrimitive, key, ['x']), 0);
      });

      it('setAdd with a ttl sets it on every call; without one the key keeps its TTL', async () => {
        await t.b.run(setAddPrimitive, t.k('set'), ['a'], 60_000);
        await t.b.run(setAddPrimitive, t.k('set'), ['b'], undefined);
        const kept = await t.b.getExpire(t.k('set'));
        assertAbove(kept, 0);
        assertAtMost(kept, 60_000);
        await t.b.run(setAddPrimitive, t.k('set'), ['a'], 600_000);
        assertAbove(await t.b.getExpire(t.k('set')), 60_000);
        await t.b.run(setAddPrimitive, t.k('none'), ['a'], undefined);
        assert.equal(await t.b.getExpire(t.k('none')), -1);
      });

      it(`${CONCURRENCY} concurrent setAdd and setPop calls lose and repeat no member`, async () => {
        const members = range(CONCURRENCY).map(String);
        const added = await Promise.all(members.map((m) => t.b.run(setAddPrimitive, t.k('set'), [m], undefined)));
        assert.equal(
          added.reduce((sum, n) => sum + n, 0),
          CONCURRENCY,
        );
        const popped = await Promise.all(
          Array.from({ length: CONCURRENCY + 50 }, () => t.b.run(setPopPrimitive, t.k('set'), 1)),
        );
        assert.deepEqual(sorted(popped.flat()), sorted(members));
        assert.equal(await t.b.exists(t.k('set')), false);
      });

      it('a structure command on a key of another kind rejects with CacheValueError and leaves it', async () => {
        await t.b.run(setAddPrimitive, t.k('set'), ['a'], undefined);
        await t.b.run(sliceIncrPrimitive, t.k('slice'), 0, 1, 5, undefined);
        await t.b.run(incrBitsPrimitive, t.k('bits'), [1], 1, 1, undefined);
        await t.b.set(t.k('value'), 'v');
        const refused: Array<Promise<unknown>> = [
          t.b.run(incrBitsPrimitive, t.k('set'), [1], 1, 1, undefined),
          t.b.run(getBitsPrimitive, t.k('slice'), [1], 1),
          t.b.run(sliceIncrPrimitive, t.k('set'), 0, 1, 5, undefined),
          t.b.run(sliceIncrPrimitive, t.k('bits'), 0, 1, 5, undefined),
          t.b.run(setAddPrimitive, t.k('value'), ['b'], undefined),
          t.b.run(setRemovePrimitive, t.k('bits'), ['b']),
          t.b.run(setPopPrimitive, t.k('slice'), 1),
          t.b.run(getRawPrimitive, t.k('set')),
          t.b.run(getRawPrimitive, t.k('slice')),
        ];
        for (const call of refused) await assertRejectsWithCode(call, CACHE_VALUE);
        assert.deepEqual(await t.b.run(setPopPrimitive, t.k('set'), 5), ['a']);
        assert.equal(await t.b.run(sliceIncrPrimitive, t.k('slice'), 0, 1, 5, undefined), 2);
        assert.deepEqual(await t.b.run(getBitsPrimitive, t.k('bits'), [1], 1), [1]);
        assert.equal(await t.b.get(t.k('value')), 'v');
      });

      it('getRaw answers the stored string, an integer counter as its digits, undefined when missing', async () => {
        assert.equal(await t.b.run(getRawPrimitive, t.k('missing')), undefined);
        await t.b.set(t.k('s'), 'c1:p{"a":1} é');
        assert.equal(await t.b.run(getRawPrimitive, t.k('s')), 'c1:p{"a":1} é');
        await t.b.run(incrPrimitive, t.k('n'), 41, undefined);
        assert.equal(await t.b.run(getRawPrimitive, t.k('n')), '41');
      });

      it('getSize: -1 when missing, at least the bytes of a stored string, more than 0 for a set', async () => {
        assert.equal(await t.b.run(getSizePrimitive, t.k('missing')), -1);
        await t.b.set(t.k('s'), 'é'.repeat(500)); // 1000 bytes in UTF-8
        const size = await t.b.run(getSizePrimitive, t.k('s'));
        assertAtLeast(size, 1_000);
        assertBelow(size, 2_000);
        await t.b.run(setAddPrimitive, t.k('set'), ['a', 'b'], undefined);
        assertAbove(await t.b.run(getSizePrimitive, t.k('set')), 0);
        await t.b.run(incrBitsPrimitive, t.k('bits'), [8_000 - 1], 1, 1, undefined);
        assertAtLeast(await t.b.run(getSizePrimitive, t.k('bits')), 1_000);
      });

      it('countKeys counts each key once; protection state and tag indexes are not keys', async () => {
        const before = await countKeys(t.b);
        await t.b.setMany([
          [t.k('a'), '1'],
          [t.k('b'), '2'],
        ]);
        await t.b.setTagged(t.k('tagged'), 'v', [`${t.k('')}tag`]);
        await t.b.set(protectedKey(t.k('lock')), 'token');
        await t.b.run(setAddPrimitive, t.k('set'), ['a'], undefined);
        await t.b.run(incrBitsPrimitive, t.k('bits'), [1], 1, 1, undefined);
        assert.equal(await countKeys(t.b), before + 5);
        await t.b.delete(t.k('a'));
        await t.b.run(setPopPrimitive, t.k('set'), 1);
        assert.equal(await countKeys(t.b), before + 3);
      });
    });

    describe('data structures over time', () => {
      const t = lifecycle(true);
      const TTL = 400;

      it('a bitmap, a sliding counter and a set expire after their ttl and start again', async () => {
        await t.b.run(incrBitsPrimitive, t.k('bits'), [3], 4, 7, TTL);
        await t.b.run(sliceIncrPrimitive, t.k('slice'), 0, 1, 1, TTL);
        await t.b.run(setAddPrimitive, t.k('set'), ['a', 'b'], TTL);
        await t.time.justBefore(TTL);
        assert.deepEqual(await t.b.run(getBitsPrimitive, t.k('bits'), [3], 4), [7]);
        assert.equal(await t.b.run(sliceIncrPrimitive, t.k('slice'), 0, 1, 1, TTL), 1);
        await t.time.eventually(t.time.fake ? 1 : TTL, async () => !(await t.b.exists(t.k('bits'))));
        await t.time.eventually(0, async () => !(await t.b.exists(t.k('slice'))));
        await t.time.eventually(0, async () => !(await t.b.exists(t.k('set'))));
        assert.deepEqual(await t.b.run(getBitsPrimitive, t.k('bits'), [3], 4), [0]);
        assert.equal(await t.b.run(sliceIncrPrimitive, t.k('slice'), 0, 1, 1, undefined), 1);
        assert.deepEqual(await t.b.run(setPopPrimitive, t.k('set'), 5), []);
      });

      it('countKeys stops counting a key once it expired', async () => {
        const before = await countKeys(t.b);
        await t.b.set(t.k('short'), 'v', { ttl: TTL });
        await t.b.set(t.k('long'), 'v');
        assert.equal(await countKeys(t.b), before + 2);
        await t.time.eventually(TTL, async () => (await countKeys(t.b)) === before + 1);
      });
    });
  });
}
