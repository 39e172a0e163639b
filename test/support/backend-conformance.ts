/**
 * What every {@link Backend} must do, run on the backend itself (no CacheService, no codec): the key-value contract
 * and every primitive of lib/primitives/, with exact answers under concurrency. Usage:
 * `backendConformance('mem://', () => new MemoryBackend(...), { fakeTimers: true })`.
 *
 * Each test gets a fresh backend from `makeBackend()` (connected here) and a unique key prefix; the backend is
 * cleared and closed after it. Raw values are strings, so every backend can hold them. Tests whose subject is time
 * run on Jest's fake timers when `fakeTimers` is set (memory backends: nothing waits on a socket or a timer of
 * its own), otherwise on real time with TTLs of at least 300 ms and bounded polling.
 */
import { jest } from '@jest/globals';
import type { Backend } from '../../lib/backends/backend.interface.js';
import type { CircuitOp, CircuitSettings } from '../../lib/backends/protect-types.js';
import { CacheValueError } from '../../lib/errors.js';
import { PROTECTED_PREFIX, protectedKey } from '../../lib/keys/protected-keys.js';
import { circuitPrimitive } from '../../lib/primitives/circuit.primitive.js';
import { fixedWindowPrimitive } from '../../lib/primitives/fixed-window.primitive.js';
import { incrPrimitive } from '../../lib/primitives/incr.primitive.js';
import { setLockPrimitive } from '../../lib/primitives/set-lock.primitive.js';
import { slidingWindowPrimitive } from '../../lib/primitives/sliding-window.primitive.js';
import { unlockPrimitive } from '../../lib/primitives/unlock.primitive.js';
import { countKeys } from '../../lib/backends/count-keys.js';
import { getBitsPrimitive } from '../../lib/primitives/get-bits.primitive.js';
import { getRawPrimitive } from '../../lib/primitives/get-raw.primitive.js';
import { getSizePrimitive } from '../../lib/primitives/get-size.primitive.js';
import { incrBitsPrimitive } from '../../lib/primitives/incr-bits.primitive.js';
import { setAddPrimitive } from '../../lib/primitives/set-add.primitive.js';
import { setPopPrimitive } from '../../lib/primitives/set-pop.primitive.js';
import { setRemovePrimitive } from '../../lib/primitives/set-remove.primitive.js';
import { sliceIncrPrimitive } from '../../lib/primitives/slice-incr.primitive.js';

export interface ConformanceOptions {
  /** Run the tests whose subject is time on Jest's fake timers (memory backends only). */
  fakeTimers?: boolean;
  /** Start of every key the suite writes (default `conf:`): lets a prefix router send them to one route. */
  keyPrefix?: string;
}

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

const fakeTime: Time = {
  async elapse(ms) {
    jest.advanceTimersByTime(ms);
  },
  async eventually(ms, check) {
    // A TTL of `ms` still holds at `ms` (0 ms left, as on Redis): the check runs 1 ms past it.
    jest.advanceTimersByTime(ms + 1);
    expect(await check()).toBe(true);
  },
  async justBefore(ms) {
    jest.advanceTimersByTime(ms - 1);
  },
  fake: true,
};

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

export function backendConformance(
  name: string,
  makeBackend: () => Promise<Backend> | Backend,
  options: ConformanceOptions = {},
): void {
  const keyPrefix = options.keyPrefix ?? 'conf:';
  let testIndex = 0;

  /** Registers a fresh backend per test in the enclosing describe; `timed`: fake timers when the suite has them. */
  function lifecycle(timed: boolean) {
    const fake = timed && options.fakeTimers === true;
    const state = { backend: undefined as unknown as Backend, prefix: '' };
    beforeEach(async () => {
      // Before the backend exists: its clock must be the fake one from the start.
      if (fake) jest.useFakeTimers();
      testIndex += 1;
      state.prefix = `${keyPrefix}${testIndex}:${Date.now().toString(36)}:`;
      state.backend = await makeBackend();
      await state.backend.connect();
    });
    afterEach(async () => {
      try {
        await state.backend.clear();
      } finally {
        await state.backend.close();
        if (fake) jest.useRealTimers();
      }
    });
    return {
      get b(): Backend {
        return state.backend;
      },
      k: (suffix: string): string => `${state.prefix}${suffix}`,
      time: fake ? fakeTime : realTime,
    };
  }

  describe(`backend conformance: ${name}`, () => {
    describe('key-value', () => {
      const t = lifecycle(false);

      it('ping answers PONG or echoes the message', async () => {
        await expect(t.b.ping()).resolves.toBe('PONG');
        await expect(t.b.ping('hello')).resolves.toBe('hello');
      });

      it('get, set, exists and overwrite', async () => {
        await expect(t.b.get(t.k('a'))).resolves.toBeUndefined();
        await expect(t.b.exists(t.k('a'))).resolves.toBe(false);
        await expect(t.b.set(t.k('a'), 'one')).resolves.toBe(true);
        await expect(t.b.get(t.k('a'))).resolves.toBe('one');
        await expect(t.b.exists(t.k('a'))).resolves.toBe(true);
        await expect(t.b.set(t.k('a'), 'two')).resolves.toBe(true);
        await expect(t.b.get(t.k('a'))).resolves.toBe('two');
        await expect(t.b.set(t.k('empty'), '')).resolves.toBe(true);
        await expect(t.b.get(t.k('empty'))).resolves.toBe('');
      });

      it('set with exist: true only overwrites, exist: false only creates', async () => {
        await expect(t.b.set(t.k('x'), 'v', { exist: true })).resolves.toBe(false);
        await expect(t.b.exists(t.k('x'))).resolves.toBe(false);
        await expect(t.b.set(t.k('x'), 'v1', { exist: false })).resolves.toBe(true);
        await expect(t.b.set(t.k('x'), 'v2', { exist: false })).resolves.toBe(false);
        await expect(t.b.get(t.k('x'))).resolves.toBe('v1');
        await expect(t.b.set(t.k('x'), 'v3', { exist: true })).resolves.toBe(true);
        await expect(t.b.get(t.k('x'))).resolves.toBe('v3');
      });

      it('getMany answers in input order, undefined for misses, repeated keys included', async () => {
        await t.b.set(t.k('a'), 'A');
        await t.b.set(t.k('b'), 'B');
        await expect(t.b.getMany([t.k('b'), t.k('missing'), t.k('a'), t.k('b')])).resolves.toEqual([
          'B',
          undefined,
          'A',
          'B',
        ]);
        await expect(t.b.getMany([])).resolves.toEqual([]);
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
        await expect(t.b.getMany([t.k('a'), t.k('b'), t.k('c'), t.k('d')])).resolves.toEqual(['1', '2', '3', '4']);
        await expect(t.b.getExpire(t.k('a'))).resolves.toBe(-1);
        for (const key of [t.k('c'), t.k('d')]) {
          const left = await t.b.getExpire(key);
          expect(left).toBeGreaterThan(0);
          expect(left).toBeLessThanOrEqual(60_000);
        }
      });

      it('delete and deleteMany report what existed', async () => {
        await t.b.setMany([
          [t.k('a'), '1'],
          [t.k('b'), '2'],
          [t.k('c'), '3'],
        ]);
        await expect(t.b.delete(t.k('a'))).resolves.toBe(true);
        await expect(t.b.delete(t.k('a'))).resolves.toBe(false);
        await expect(t.b.deleteMany([t.k('b'), t.k('missing'), t.k('c')])).resolves.toBe(2);
        await expect(t.b.deleteMany([])).resolves.toBe(0);
        await expect(t.b.getMany([t.k('a'), t.k('b'), t.k('c')])).resolves.toEqual([undefined, undefined, undefined]);
      });

      it('TTLs: set with a ttl, a plain set clears it, expire applies to existing keys only', async () => {
        await expect(t.b.getExpire(t.k('missing'))).resolves.toBe(-2);
        await t.b.set(t.k('a'), 'v', { ttl: 60_000 });
        const left = await t.b.getExpire(t.k('a'));
        expect(left).toBeGreaterThan(0);
        expect(left).toBeLessThanOrEqual(60_000);
        await t.b.set(t.k('a'), 'w');
        await expect(t.b.getExpire(t.k('a'))).resolves.toBe(-1);
        await expect(t.b.expire(t.k('missing'), 60_000)).resolves.toBe(false);
        await expect(t.b.exists(t.k('missing'))).resolves.toBe(false);
        await expect(t.b.expire(t.k('a'), 30_000)).resolves.toBe(true);
        const after = await t.b.getExpire(t.k('a'));
        expect(after).toBeGreaterThan(0);
        expect(after).toBeLessThanOrEqual(30_000);
        await expect(t.b.get(t.k('a'))).resolves.toBe('w');
      });

      it('scan: `*` is the only wildcard, each key once; `?` and brackets are literal', async () => {
        const keys = ['user:1', 'user:2', 'user:10', 'other:1', 'odd?', 'odd[x]', 'oddx'].map(t.k);
        await t.b.setMany(keys.map((key) => [key, 'v'] as const));
        expect(sorted(await collect(t.b.scan(t.k('user:*'))))).toEqual(
          sorted(['user:1', 'user:2', 'user:10'].map(t.k)),
        );
        expect(sorted(await collect(t.b.scan(t.k('*'))))).toEqual(sorted(keys));
        await expect(collect(t.b.scan(t.k('odd?')))).resolves.toEqual([t.k('odd?')]);
        await expect(collect(t.b.scan(t.k('odd[x]')))).resolves.toEqual([t.k('odd[x]')]);
        await expect(collect(t.b.scan(t.k('user:1')))).resolves.toEqual([t.k('user:1')]);
        await expect(collect(t.b.scan(t.k('nothing:*')))).resolves.toEqual([]);
      });

      it('scan leaves protection state out unless the pattern names its namespace', async () => {
        await t.b.set(t.k('plain'), 'v');
        await t.b.set(protectedKey(t.k('lock')), 'token');
        const everything = await collect(t.b.scan('*'));
        expect(everything).toContain(t.k('plain'));
        expect(everything.filter((key) => key.startsWith(PROTECTED_PREFIX))).toEqual([]);
        await expect(collect(t.b.scan(`*${t.k('lock')}`))).resolves.toEqual([]);
        await expect(collect(t.b.scan(protectedKey(t.k('*'))))).resolves.toEqual([protectedKey(t.k('lock'))]);
      });

      it('deleteMatch deletes and counts matching keys only, protection state included only when named', async () => {
        await t.b.setMany(['a:1', 'a:2', 'a:3', 'b:1'].map((suffix) => [t.k(suffix), 'v'] as const));
        await t.b.set(protectedKey(t.k('a:lock')), 'token');
        await expect(t.b.deleteMatch(t.k('a:*'))).resolves.toBe(3);
        await expect(t.b.deleteMatch(t.k('a:*'))).resolves.toBe(0);
        await expect(t.b.exists(t.k('b:1'))).resolves.toBe(true);
        await expect(t.b.exists(protectedKey(t.k('a:lock')))).resolves.toBe(true);
        await expect(t.b.deleteMatch(protectedKey(t.k('a:*')))).resolves.toBe(1);
        await expect(t.b.exists(protectedKey(t.k('a:lock')))).resolves.toBe(false);
      });

      it('deleteMatch over more keys than one batch', async () => {
        const keys = Array.from({ length: 1_200 }, (_, i) => t.k(`many:${i}`));
        await t.b.setMany(keys.map((key) => [key, 'v'] as const));
        await expect(t.b.deleteMatch(t.k('many:*'))).resolves.toBe(keys.length);
        await expect(collect(t.b.scan(t.k('many:*')))).resolves.toEqual([]);
      });

      it('clear removes every key, protection state included', async () => {
        await t.b.set(t.k('a'), 'v');
        await t.b.set(protectedKey(t.k('lock')), 'token');
        await t.b.setTagged(t.k('tagged'), 'v', ['conf-tag']);
        await t.b.clear();
        await expect(t.b.getMany([t.k('a'), protectedKey(t.k('lock')), t.k('tagged')])).resolves.toEqual([
          undefined,
          undefined,
          undefined,
        ]);
        await expect(t.b.deleteTags(['conf-tag'])).resolves.toBe(0);
      });

      it('setTagged writes like set (exist included); deleteTags removes tagged keys once and counts them', async () => {
        const tag = (name: string): string => `${t.k('')}${name}`;
        await expect(t.b.setTagged(t.k('a'), 'A', [tag('t1'), tag('t2')])).resolves.toBe(true);
        await expect(t.b.setTagged(t.k('b'), 'B', [tag('t2')], { ttl: 60_000 })).resolves.toBe(true);
        await expect(t.b.setTagged(t.k('b'), 'B2', [tag('t2')], { exist: false })).resolves.toBe(false);
        await expect(t.b.setTagged(t.k('none'), 'N', [tag('t3')], { exist: true })).resolves.toBe(false);
        await t.b.set(t.k('untagged'), 'U');
        await expect(t.b.get(t.k('b'))).resolves.toBe('B');
        const left = await t.b.getExpire(t.k('b'));
        expect(left).toBeGreaterThan(0);
        expect(left).toBeLessThanOrEqual(60_000);
        await expect(t.b.deleteTags([tag('t1'), tag('t2'), tag('t3')])).resolves.toBe(2);
        await expect(t.b.getMany([t.k('a'), t.k('b'), t.k('untagged')])).resolves.toEqual([undefined, undefined, 'U']);
        await expect(t.b.deleteTags([tag('t1'), tag('t2')])).resolves.toBe(0);
      });

      it('a deleted key leaves its tags; an overwrite without tags keeps them', async () => {
        const tag = `${t.k('')}tag`;
        await t.b.setTagged(t.k('gone'), 'v', [tag]);
        await t.b.setTagged(t.k('kept'), 'v', [tag]);
        await t.b.delete(t.k('gone'));
        await t.b.set(t.k('gone'), 'recreated without tags');
        await t.b.set(t.k('kept'), 'overwritten without tags');
        await expect(t.b.deleteTags([tag])).resolves.toBe(1);
        await expect(t.b.get(t.k('gone'))).resolves.toBe('recreated without tags');
        await expect(t.b.exists(t.k('kept'))).resolves.toBe(false);
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
        await expect(t.b.getMany([t.k('a'), t.k('b')])).resolves.toEqual(['v', 'w']);
        await t.time.eventually(t.time.fake ? 1 : TTL, async () => (await t.b.get(t.k('a'))) === undefined);
        await t.time.eventually(0, async () => (await t.b.get(t.k('b'))) === undefined);
        await expect(t.b.exists(t.k('a'))).resolves.toBe(false);
        await expect(t.b.getExpire(t.k('a'))).resolves.toBe(-2);
        await expect(collect(t.b.scan(t.k('*')))).resolves.toEqual([]);
        await expect(t.b.set(t.k('a'), 'again', { exist: false })).resolves.toBe(true);
      });

      it('expire gives a key without TTL one, after which it expires', async () => {
        await t.b.set(t.k('a'), 'v');
        await expect(t.b.expire(t.k('a'), TTL)).resolves.toBe(true);
        await t.time.eventually(TTL, async () => !(await t.b.exists(t.k('a'))));
      });

      it('a tagged key that expired is no longer counted by deleteTags', async () => {
        const tag = `${t.k('')}tag`;
        await t.b.setTagged(t.k('short'), 'v', [tag], { ttl: TTL });
        await t.b.setTagged(t.k('long'), 'v', [tag]);
        await t.time.eventually(TTL, async () => !(await t.b.exists(t.k('short'))));
        await expect(t.b.deleteTags([tag])).resolves.toBe(1);
      });
    });

    describe('primitives', () => {
      const t = lifecycle(false);

      it('incr creates the counter at `by`, then adds (negative too)', async () => {
        await expect(t.b.run(incrPrimitive, t.k('n'), 1, undefined)).resolves.toBe(1);
        await expect(t.b.run(incrPrimitive, t.k('n'), 10, undefined)).resolves.toBe(11);
        await expect(t.b.run(incrPrimitive, t.k('n'), -15, undefined)).resolves.toBe(-4);
        await expect(t.b.run(incrPrimitive, t.k('m'), 5, undefined)).resolves.toBe(5);
        expect(String(await t.b.get(t.k('n')))).toBe('-4');
      });

      it('incr applies its ttl only when it creates the counter, and keeps the remaining TTL after', async () => {
        await t.b.run(incrPrimitive, t.k('n'), 1, 60_000);
        const first = await t.b.getExpire(t.k('n'));
        expect(first).toBeGreaterThan(0);
        expect(first).toBeLessThanOrEqual(60_000);
        await expect(t.b.run(incrPrimitive, t.k('n'), 1, 600_000)).resolves.toBe(2);
        const second = await t.b.getExpire(t.k('n'));
        expect(second).toBeGreaterThan(0);
        expect(second).toBeLessThanOrEqual(first);
        await t.b.run(incrPrimitive, t.k('forever'), 1, undefined);
        await expect(t.b.getExpire(t.k('forever'))).resolves.toBe(-1);
        await t.b.run(incrPrimitive, t.k('forever'), 1, 60_000);
        await expect(t.b.getExpire(t.k('forever'))).resolves.toBe(-1);
      });

      it('incr counts on an integer stored as a string and keeps its TTL', async () => {
        await t.b.set(t.k('n'), '41', { ttl: 60_000 });
        await expect(t.b.run(incrPrimitive, t.k('n'), 1, undefined)).resolves.toBe(42);
        const left = await t.b.getExpire(t.k('n'));
        expect(left).toBeGreaterThan(0);
        expect(left).toBeLessThanOrEqual(60_000);
        expect(String(await t.b.get(t.k('n')))).toBe('42');
      });

      it.each(['abc', '1.5', '{"a":1}'])('incr on %j rejects with CacheValueError and leaves it', async (stored) => {
        await t.b.set(t.k('bad'), stored);
        await expect(t.b.run(incrPrimitive, t.k('bad'), 1, undefined)).rejects.toBeInstanceOf(CacheValueError);
        await expect(t.b.get(t.k('bad'))).resolves.toBe(stored);
      });

      it(`${CONCURRENCY} concurrent incr calls each get a distinct value, and the counter holds them all`, async () => {
        const answers = await Promise.all(
          Array.from({ length: CONCURRENCY }, () => t.b.run(incrPrimitive, t.k('c'), 1, 60_000)),
        );
        expect([...answers].sort((a, b) => a - b)).toEqual(Array.from({ length: CONCURRENCY }, (_, i) => i + 1));
        expect(String(await t.b.get(t.k('c')))).toBe(String(CONCURRENCY));
      });

      it('setLock takes a free key with its token and TTL; unlock releases only with that token', async () => {
        await expect(t.b.run(setLockPrimitive, t.k('l'), 'me', 60_000)).resolves.toBe(true);
        await expect(t.b.run(setLockPrimitive, t.k('l'), 'you', 60_000)).resolves.toBe(false);
        await expect(t.b.get(t.k('l'))).resolves.toBe('me');
        const left = await t.b.getExpire(t.k('l'));
        expect(left).toBeGreaterThan(0);
        expect(left).toBeLessThanOrEqual(60_000);
        await expect(t.b.run(unlockPrimitive, t.k('l'), 'you')).resolves.toBe(false);
        await expect(t.b.exists(t.k('l'))).resolves.toBe(true);
        await expect(t.b.run(unlockPrimitive, t.k('l'), 'me')).resolves.toBe(true);
        await expect(t.b.exists(t.k('l'))).resolves.toBe(false);
        await expect(t.b.run(unlockPrimitive, t.k('l'), 'me')).resolves.toBe(false);
        await expect(t.b.run(setLockPrimitive, t.k('l'), 'you', 60_000)).resolves.toBe(true);
      });

      it(`of ${CONCURRENCY} concurrent setLock calls exactly one wins, and the key holds its token`, async () => {
        const won = await Promise.all(
          Array.from({ length: CONCURRENCY }, (_, i) => t.b.run(setLockPrimitive, t.k('l'), `token-${i}`, 60_000)),
        );
        const winners = won.flatMap((ok, i) => (ok ? [`token-${i}`] : []));
        expect(winners).toHaveLength(1);
        await expect(t.b.get(t.k('l'))).resolves.toBe(winners[0]);
      });

      it('fixedWindow allows `limit` calls, then bans the key for banTtl', async () => {
        const states = [];
        for (let i = 0; i < 5; i++) states.push(await t.b.run(fixedWindowPrimitive, t.k('w'), 3, 60_000, 120_000));
        expect(states.map((s) => [s.allowed, s.remaining])).toEqual([
          [true, 2],
          [true, 1],
          [true, 0],
          [false, 0],
          [false, 0],
        ]);
        for (const s of states.slice(0, 3)) {
          expect(s.reset).toBeGreaterThan(0);
          expect(s.reset).toBeLessThanOrEqual(60_000);
        }
        // Redis reads the ban's PTTL in the script that set it: at most a millisecond may have passed.
        expect(states[3].reset).toBeGreaterThanOrEqual(119_999);
        expect(states[3].reset).toBeLessThanOrEqual(120_000);
        expect(states[4].reset).toBeGreaterThan(60_000);
        expect(states[4].reset).toBeLessThanOrEqual(120_000);
        expect(await t.b.getExpire(t.k('w'))).toBeGreaterThan(60_000);
      });

      it(`fixedWindow: of ${CONCURRENCY} concurrent calls with limit 50 exactly 50 are allowed`, async () => {
        const states = await Promise.all(
          Array.from({ length: CONCURRENCY }, () => t.b.run(fixedWindowPrimitive, t.k('w'), 50, 60_000, 60_000)),
        );
        const allowed = states.filter((s) => s.allowed);
        expect(allowed).toHaveLength(50);
        expect(allowed.map((s) => s.remaining).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      });

      it('slidingWindow allows `limit` calls in the period and tells when the oldest leaves', async () => {
        const states = [];
        for (let i = 0; i < 5; i++) states.push(await t.b.run(slidingWindowPrimitive, t.k('s'), 3, 60_000));
        expect(states.map((s) => [s.allowed, s.remaining])).toEqual([
          [true, 2],
          [true, 1],
          [true, 0],
          [false, 0],
          [false, 0],
        ]);
        for (const s of states) {
          expect(s.reset).toBeGreaterThan(0);
          expect(s.reset).toBeLessThanOrEqual(60_000);
        }
      });

      it(`slidingWindow: of ${CONCURRENCY} concurrent calls with limit 50 exactly 50 are allowed`, async () => {
        const states = await Promise.all(
          Array.from({ length: CONCURRENCY }, () => t.b.run(slidingWindowPrimitive, t.k('s'), 50, 60_000)),
        );
        const allowed = states.filter((s) => s.allowed);
        expect(allowed).toHaveLength(50);
        expect(allowed.map((s) => s.remaining).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      });

      it('circuit stays closed below minCalls and the error rate, opens at the threshold', async () => {
        const s: CircuitSettings = { errorsRate: 50, period: 60_000, ttl: 60_000, minCalls: 4, halfOpenTtl: 0 };
        const run = (op: CircuitOp) => t.b.run(circuitPrimitive, t.k('c'), op, s);
        await expect(run('check')).resolves.toEqual({ state: 'closed', allowed: true, trial: false, retryAfter: 0 });
        for (const op of ['ok', 'fail', 'fail'] as const)
          await expect(run(op)).resolves.toMatchObject({ state: 'closed' });
        await expect(run('fail')).resolves.toEqual({ state: 'open', allowed: false, trial: false, retryAfter: 60_000 });
        const check = await run('check');
        expect(check).toMatchObject({ state: 'open', allowed: false, trial: false });
        expect(check.retryAfter).toBeGreaterThan(0);
        expect(check.retryAfter).toBeLessThanOrEqual(60_000);
        await expect(run('ok')).resolves.toMatchObject({ state: 'open', allowed: false });
      });

      it(`circuit: of ${CONCURRENCY} concurrent failures with minCalls 100, the 100th opens it`, async () => {
        const s: CircuitSettings = { errorsRate: 50, period: 60_000, ttl: 60_000, minCalls: 100, halfOpenTtl: 0 };
        const states = await Promise.all(
          Array.from({ length: CONCURRENCY }, () => t.b.run(circuitPrimitive, t.k('c'), 'fail', s)),
        );
        expect(states.filter((state) => state.state === 'closed')).toHaveLength(99);
        expect(states.filter((state) => state.state === 'open')).toHaveLength(CONCURRENCY - 99);
      });

      it('a write by a primitive is seen by the next read of its key', async () => {
        await t.b.set(t.k('n'), '1');
        await expect(t.b.get(t.k('n'))).resolves.toBe('1');
        await t.b.run(incrPrimitive, t.k('n'), 1, undefined);
        expect(String(await t.b.get(t.k('n')))).toBe('2');
        await t.b.run(setLockPrimitive, t.k('l'), 'me', 60_000);
        await expect(t.b.get(t.k('l'))).resolves.toBe('me');
        await t.b.run(unlockPrimitive, t.k('l'), 'me');
        await expect(t.b.get(t.k('l'))).resolves.toBeUndefined();
      });
    });

    describe('primitives over time', () => {
      const t = lifecycle(true);
      const PERIOD = 400;

      it('an expired counter starts again', async () => {
        await t.b.run(incrPrimitive, t.k('n'), 5, PERIOD);
        await t.time.eventually(PERIOD, async () => !(await t.b.exists(t.k('n'))));
        await expect(t.b.run(incrPrimitive, t.k('n'), 1, undefined)).resolves.toBe(1);
      });

      it('a lock expires after its TTL and another token can take it', async () => {
        await expect(t.b.run(setLockPrimitive, t.k('l'), 'me', PERIOD)).resolves.toBe(true);
        await t.time.justBefore(PERIOD);
        await expect(t.b.run(setLockPrimitive, t.k('l'), 'you', PERIOD)).resolves.toBe(false);
        await t.time.eventually(t.time.fake ? 1 : PERIOD, () => t.b.run(setLockPrimitive, t.k('l'), 'you', 60_000));
        await expect(t.b.get(t.k('l'))).resolves.toBe('you');
        await expect(t.b.run(unlockPrimitive, t.k('l'), 'me')).resolves.toBe(false);
      });

      it('fixedWindow: a new window starts after the period', async () => {
        await expect(t.b.run(fixedWindowPrimitive, t.k('w'), 1, PERIOD, PERIOD)).resolves.toMatchObject({
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
        expect(banned).toMatchObject({ allowed: false, remaining: 0 });
        expect(banned.reset).toBeGreaterThanOrEqual(ban - 1);
        await t.time.elapse(PERIOD * 2);
        await expect(t.b.run(fixedWindowPrimitive, t.k('w'), 1, PERIOD, ban)).resolves.toMatchObject({
          allowed: false,
        });
        await t.time.eventually(ban, async () => !(await t.b.exists(t.k('w'))));
        await expect(t.b.run(fixedWindowPrimitive, t.k('w'), 1, PERIOD, ban)).resolves.toMatchObject({
          allowed: true,
          remaining: 0,
        });
      });

      it('slidingWindow: calls are allowed again once the oldest left the period', async () => {
        for (const allowed of [true, true, false]) {
          await expect(t.b.run(slidingWindowPrimitive, t.k('s'), 2, PERIOD)).resolves.toMatchObject({ allowed });
        }
        await t.time.eventually(
          PERIOD,
          async () => (await t.b.run(slidingWindowPrimitive, t.k('s'), 2, PERIOD)).allowed,
        );
      });

      it('circuit: after ttl, half-open lets one trial through; its outcome re-opens or closes it', async () => {
        const s: CircuitSettings = { errorsRate: 100, period: 60_000, ttl: PERIOD, minCalls: 1, halfOpenTtl: 60_000 };
        const run = (op: CircuitOp) => t.b.run(circuitPrimitive, t.k('c'), op, s);
        await expect(run('fail')).resolves.toMatchObject({ state: 'open' });
        await t.time.eventually(PERIOD, async () => (await run('check')).trial);
        const busy = await run('check');
        expect(busy).toMatchObject({ state: 'half-open', allowed: false, trial: false });
        expect(busy.retryAfter).toBeGreaterThan(0);
        await expect(run('trial-fail')).resolves.toMatchObject({ state: 'open', retryAfter: PERIOD });
        await expect(run('check')).resolves.toMatchObject({ state: 'open', allowed: false });
        await t.time.eventually(PERIOD, async () => (await run('check')).trial);
        await expect(run('trial-ok')).resolves.toMatchObject({ state: 'closed' });
        await expect(run('check')).resolves.toEqual({ state: 'closed', allowed: true, trial: false, retryAfter: 0 });
      });

      it(`circuit: of ${CONCURRENCY} concurrent checks in half-open exactly one is the trial`, async () => {
        const s: CircuitSettings = { errorsRate: 100, period: 60_000, ttl: PERIOD, minCalls: 1, halfOpenTtl: 60_000 };
        await t.b.run(circuitPrimitive, t.k('c'), 'fail', s);
        await t.time.eventually(PERIOD, async () => {
          const states = await Promise.all(
            Array.from({ length: CONCURRENCY }, () => t.b.run(circuitPrimitive, t.k('c'), 'check', s)),
          );
          if (states.every((state) => state.state === 'open')) return false;
          expect(states.filter((state) => state.trial)).toHaveLength(1);
          expect(states.filter((state) => state.allowed)).toHaveLength(1);
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
        await expect(t.b.run(getBitsPrimitive, t.k('bits'), [0, 5, 1_000], 4)).resolves.toEqual([0, 0, 0]);
        await expect(t.b.run(getBitsPrimitive, t.k('bits'), [], 1)).resolves.toEqual([]);
        await expect(t.b.exists(t.k('bits'))).resolves.toBe(false);
      });

      it('incrBits counts per index in the order given and saturates at 0 and 2^size - 1', async () => {
        const key = t.k('bits');
        await expect(t.b.run(incrBitsPrimitive, key, [3, 0, 3], 4, 1, undefined)).resolves.toEqual([1, 1, 2]);
        await expect(t.b.run(incrBitsPrimitive, key, [3, 7], 4, 20, undefined)).resolves.toEqual([15, 15]);
        await expect(t.b.run(incrBitsPrimitive, key, [0, 3], 4, -5, undefined)).resolves.toEqual([0, 10]);
        await expect(t.b.run(getBitsPrimitive, key, [0, 1, 3, 7, 8], 4)).resolves.toEqual([0, 0, 10, 15, 0]);
        await expect(t.b.run(incrBitsPrimitive, key, [1], 1, 1, undefined)).resolves.toEqual([1]);
        await expect(t.b.run(incrBitsPrimitive, key, [1], 1, 1, undefined)).resolves.toEqual([1]);
        await expect(t.b.run(incrBitsPrimitive, key, [100], 16, 70_000, undefined)).resolves.toEqual([65_535]);
        await expect(t.b.run(incrBitsPrimitive, key, [2], 2, 0, undefined)).resolves.toEqual([0]);
      });

      it('bits are laid out as Redis lays out a string: a string key is a bitmap of its bytes', async () => {
        await t.b.set(t.k('s'), 'A'); // 0x41: 0100 0001
        await expect(t.b.run(getBitsPrimitive, t.k('s'), [0, 1, 2, 7, 8], 1)).resolves.toEqual([0, 1, 0, 1, 0]);
        await expect(t.b.run(getBitsPrimitive, t.k('s'), [0, 1], 4)).resolves.toEqual([4, 1]);
        await expect(t.b.run(incrBitsPrimitive, t.k('s'), [0], 8, 1, undefined)).resolves.toEqual([66]);
        await expect(t.b.run(getRawPrimitive, t.k('s'))).resolves.toBe('B');
        await t.b.run(incrBitsPrimitive, t.k('n'), [1, 2], 8, 0x41, undefined);
        await expect(t.b.run(getRawPrimitive, t.k('n'))).resolves.toBe('\0AA');
        // A counter of 3 bits across a byte boundary: bits 6..8.
        await t.b.run(incrBitsPrimitive, t.k('x'), [2], 3, 5, undefined);
        await expect(t.b.run(getBitsPrimitive, t.k('x'), [6, 7, 8], 1)).resolves.toEqual([1, 0, 1]);
      });

      it('incrBits applies its ttl only when it creates the bitmap', async () => {
        await t.b.run(incrBitsPrimitive, t.k('b'), [1], 1, 1, 60_000);
        const first = await t.b.getExpire(t.k('b'));
        expect(first).toBeGreaterThan(0);
        expect(first).toBeLessThanOrEqual(60_000);
        await t.b.run(incrBitsPrimitive, t.k('b'), [90_000], 1, 1, 600_000);
        const second = await t.b.getExpire(t.k('b'));
        expect(second).toBeGreaterThan(0);
        expect(second).toBeLessThanOrEqual(first);
        await t.b.run(incrBitsPrimitive, t.k('forever'), [1], 1, 1, undefined);
        await t.b.run(incrBitsPrimitive, t.k('forever'), [2], 1, 1, 60_000);
        await expect(t.b.getExpire(t.k('forever'))).resolves.toBe(-1);
      });

      it(`${CONCURRENCY} concurrent incrBits on one counter each see a distinct value`, async () => {
        const answers = await Promise.all(
          Array.from({ length: CONCURRENCY }, () => t.b.run(incrBitsPrimitive, t.k('b'), [5], 16, 1, undefined)),
        );
        expect(answers.map(([value]) => value).sort((a, b) => a - b)).toEqual(range(CONCURRENCY));
        await expect(t.b.run(getBitsPrimitive, t.k('b'), [5], 16)).resolves.toEqual([CONCURRENCY]);
      });

      it('sliceIncr drops entries before start, counts start..end (both included), adds only under max', async () => {
        const slice = (start: number, end: number, max = 5) =>
          t.b.run(sliceIncrPrimitive, t.k('s'), start, end, max, undefined);
        await expect(slice(0, 10)).resolves.toBe(1);
        await expect(slice(0, 20)).resolves.toBe(2);
        // 10 is dropped; 20 counted; 30 added.
        await expect(slice(15, 30)).resolves.toBe(2);
        // 30 lies after this end: kept, not counted.
        await expect(slice(15, 25)).resolves.toBe(2);
        await expect(slice(15, 30)).resolves.toBe(4);
        // An entry at `start` is counted; two entries at one `end` are two.
        await expect(slice(20, 30)).resolves.toBe(5);
        await expect(slice(20, 30)).resolves.toBe(5);
        await expect(slice(31, 40, 1)).resolves.toBe(1);
        await expect(slice(31, 40, 1)).resolves.toBe(1);
        await expect(slice(0, 40, 100)).resolves.toBe(2);
      });

      it(`sliceIncr: of ${CONCURRENCY} concurrent calls with max 50, exactly 50 are counted`, async () => {
        const answers = await Promise.all(
          Array.from({ length: CONCURRENCY }, () => t.b.run(sliceIncrPrimitive, t.k('s'), 0, 1_000, 50, 60_000)),
        );
        expect([...answers].sort((a, b) => a - b)).toEqual([...range(50), ...Array(CONCURRENCY - 50).fill(50)]);
        await expect(t.b.run(sliceIncrPrimitive, t.k('s'), 0, 1_000, 51, 60_000)).resolves.toBe(51);
      });

      it('sliceIncr sets the ttl when it adds an entry; without one the key keeps none', async () => {
        await t.b.run(sliceIncrPrimitive, t.k('s'), 0, 1, 5, 60_000);
        const left = await t.b.getExpire(t.k('s'));
        expect(left).toBeGreaterThan(0);
        expect(left).toBeLessThanOrEqual(60_000);
        await t.b.run(sliceIncrPrimitive, t.k('none'), 0, 1, 5, undefined);
        await expect(t.b.getExpire(t.k('none'))).resolves.toBe(-1);
        // A call without ttl keeps the key's TTL, unless `start` emptied the key (a new key then, as on Redis).
        await t.b.run(sliceIncrPrimitive, t.k('s'), 0, 2, 5, undefined);
        expect(await t.b.getExpire(t.k('s'))).toBeGreaterThan(0);
        await expect(t.b.run(sliceIncrPrimitive, t.k('s'), 3, 4, 5, undefined)).resolves.toBe(1);
        await expect(t.b.getExpire(t.k('s'))).resolves.toBe(-1);
      });

      it('setAdd counts new members, setRemove removed ones, setPop takes them; an empty set is gone', async () => {
        const key = t.k('set');
        await expect(t.b.run(setAddPrimitive, key, ['a', 'b', 'a'], undefined)).resolves.toBe(2);
        await expect(t.b.run(setAddPrimitive, key, ['b', 'c', '', 'é 🥜'], undefined)).resolves.toBe(3);
        await expect(t.b.run(setAddPrimitive, key, [], undefined)).resolves.toBe(0);
        await expect(t.b.run(setRemovePrimitive, key, ['a', 'zzz'])).resolves.toBe(1);
        await expect(t.b.run(setPopPrimitive, key, 0)).resolves.toEqual([]);
        const popped = await t.b.run(setPopPrimitive, key, 2);
        expect(popped).toHaveLength(2);
        const rest = await t.b.run(setPopPrimitive, key, 10);
        expect(sorted([...popped, ...rest])).toEqual(sorted(['b', 'c', '', 'é 🥜']));
        await expect(t.b.exists(key)).resolves.toBe(false);
        await expect(t.b.run(setPopPrimitive, key, 3)).resolves.toEqual([]);
        await t.b.run(setAddPrimitive, key, ['x'], undefined);
        await expect(t.b.run(setRemovePrimitive, key, ['x'])).resolves.toBe(1);
        await expect(t.b.exists(key)).resolves.toBe(false);
        await expect(t.b.run(setRemovePrimitive, key, ['x'])).resolves.toBe(0);
      });

      it('setAdd with a ttl sets it on every call; without one the key keeps its TTL', async () => {
        await t.b.run(setAddPrimitive, t.k('set'), ['a'], 60_000);
        await t.b.run(setAddPrimitive, t.k('set'), ['b'], undefined);
        const kept = await t.b.getExpire(t.k('set'));
        expect(kept).toBeGreaterThan(0);
        expect(kept).toBeLessThanOrEqual(60_000);
        await t.b.run(setAddPrimitive, t.k('set'), ['a'], 600_000);
        expect(await t.b.getExpire(t.k('set'))).toBeGreaterThan(60_000);
        await t.b.run(setAddPrimitive, t.k('none'), ['a'], undefined);
        await expect(t.b.getExpire(t.k('none'))).resolves.toBe(-1);
      });

      it(`${CONCURRENCY} concurrent setAdd and setPop calls lose and repeat no member`, async () => {
        const members = range(CONCURRENCY).map(String);
        const added = await Promise.all(members.map((m) => t.b.run(setAddPrimitive, t.k('set'), [m], undefined)));
        expect(added.reduce((sum, n) => sum + n, 0)).toBe(CONCURRENCY);
        const popped = await Promise.all(
          Array.from({ length: CONCURRENCY + 50 }, () => t.b.run(setPopPrimitive, t.k('set'), 1)),
        );
        expect(sorted(popped.flat())).toEqual(sorted(members));
        await expect(t.b.exists(t.k('set'))).resolves.toBe(false);
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
        for (const call of refused) await expect(call).rejects.toBeInstanceOf(CacheValueError);
        await expect(t.b.run(setPopPrimitive, t.k('set'), 5)).resolves.toEqual(['a']);
        await expect(t.b.run(sliceIncrPrimitive, t.k('slice'), 0, 1, 5, undefined)).resolves.toBe(2);
        await expect(t.b.run(getBitsPrimitive, t.k('bits'), [1], 1)).resolves.toEqual([1]);
        await expect(t.b.get(t.k('value'))).resolves.toBe('v');
      });

      it('getRaw answers the stored string, an integer counter as its digits, undefined when missing', async () => {
        await expect(t.b.run(getRawPrimitive, t.k('missing'))).resolves.toBeUndefined();
        await t.b.set(t.k('s'), 'c1:p{"a":1} é');
        await expect(t.b.run(getRawPrimitive, t.k('s'))).resolves.toBe('c1:p{"a":1} é');
        await t.b.run(incrPrimitive, t.k('n'), 41, undefined);
        await expect(t.b.run(getRawPrimitive, t.k('n'))).resolves.toBe('41');
      });

      it('getSize: -1 when missing, at least the bytes of a stored string, more than 0 for a set', async () => {
        await expect(t.b.run(getSizePrimitive, t.k('missing'))).resolves.toBe(-1);
        await t.b.set(t.k('s'), 'é'.repeat(500)); // 1000 bytes in UTF-8
        const size = await t.b.run(getSizePrimitive, t.k('s'));
        expect(size).toBeGreaterThanOrEqual(1_000);
        expect(size).toBeLessThan(2_000);
        await t.b.run(setAddPrimitive, t.k('set'), ['a', 'b'], undefined);
        expect(await t.b.run(getSizePrimitive, t.k('set'))).toBeGreaterThan(0);
        await t.b.run(incrBitsPrimitive, t.k('bits'), [8_000 - 1], 1, 1, undefined);
        expect(await t.b.run(getSizePrimitive, t.k('bits'))).toBeGreaterThanOrEqual(1_000);
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
        await expect(countKeys(t.b)).resolves.toBe(before + 5);
        await t.b.delete(t.k('a'));
        await t.b.run(setPopPrimitive, t.k('set'), 1);
        await expect(countKeys(t.b)).resolves.toBe(before + 3);
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
        await expect(t.b.run(getBitsPrimitive, t.k('bits'), [3], 4)).resolves.toEqual([7]);
        await expect(t.b.run(sliceIncrPrimitive, t.k('slice'), 0, 1, 1, TTL)).resolves.toBe(1);
        await t.time.eventually(t.time.fake ? 1 : TTL, async () => !(await t.b.exists(t.k('bits'))));
        await t.time.eventually(0, async () => !(await t.b.exists(t.k('slice'))));
        await t.time.eventually(0, async () => !(await t.b.exists(t.k('set'))));
        await expect(t.b.run(getBitsPrimitive, t.k('bits'), [3], 4)).resolves.toEqual([0]);
        await expect(t.b.run(sliceIncrPrimitive, t.k('slice'), 0, 1, 1, undefined)).resolves.toBe(1);
        await expect(t.b.run(setPopPrimitive, t.k('set'), 5)).resolves.toEqual([]);
      });

      it('countKeys stops counting a key once it expired', async () => {
        const before = await countKeys(t.b);
        await t.b.set(t.k('short'), 'v', { ttl: TTL });
        await t.b.set(t.k('long'), 'v');
        await expect(countKeys(t.b)).resolves.toBe(before + 2);
        await t.time.eventually(TTL, async () => (await countKeys(t.b)) === before + 1);
      });
    });
  });
}
