/**
 * Issue #15, `@RateLimit` on Redis: calls of the fixed-window primitive for one key in the same tick leave as one
 * script call that counts them one after another, and each call is answered exactly as it would have been alone.
 * Database 12 of the worker's Redis (flushed after the file).
 */
import type { Redis } from 'ioredis';
import { RedisBackend } from '../../lib/backends/redis.backend.js';
import { resolveCacheConfig } from '../../lib/config/cache-url.js';
import type { WindowState } from '../../lib/backends/protect-types.js';
import { fixedWindowPrimitive } from '../../lib/primitives/fixed-window.primitive.js';
import { definePrimitive } from '../../lib/primitives/primitive.js';
import { describeRedis, flushRedisDb, redisUrl, watchCommands } from '../support/redis.js';

const DB = 12;

describeRedis('Redis: same-key rate-limit calls of a tick in one script call', () => {
  let backend: RedisBackend;
  /** Script calls sent (EVALSHA / EVAL), in order. */
  let scripts = 0;
  afterAll(() => flushRedisDb(DB));
  beforeEach(async () => {
    backend = new RedisBackend(resolveCacheConfig(redisUrl(DB)!));
    await backend.connect();
    watchCommands(backend.client as Redis, (command) => {
      if (command.name === 'evalsha' || command.name === 'eval') scripts++;
    });
    scripts = 0;
  });
  afterEach(() => backend.close());

  const window = (key: string, limit: number, period = 60_000, ban = 300_000) =>
    backend.run(fixedWindowPrimitive, key, limit, period, ban);

  it('counts 100 concurrent calls once each in one script call: the first `limit` allowed, the rest banned', async () => {
    const states = await Promise.all(Array.from({ length: 100 }, () => window('coalesce:a', 60)));
    expect(scripts).toBe(1);
    expect(states.filter((state) => state.allowed)).toHaveLength(60);
    // Each count 1..100 answered once, in the order the calls were made.
    expect(states.map((state) => state.remaining)).toEqual(Array.from({ length: 100 }, (_, i) => Math.max(0, 59 - i)));
    expect(states.map((state) => state.allowed)).toEqual(Array.from({ length: 100 }, (_, i) => i < 60));
    // The window starts at the first call; the 61st starts the ban, which every later call reports.
    expect(states.slice(0, 60).every((state) => state.reset === 60_000)).toBe(true);
    expect(states.slice(60).every((state) => state.reset === 300_000)).toBe(true);
    const client = backend.client as Redis;
    expect(await client.get('coalesce:a')).toBe('100');
    expect(await client.pttl('coalesce:a')).toBeGreaterThan(60_000);
  });

  it('answers a group exactly as the same calls one at a time', async () => {
    const sequential: WindowState[] = [];
    for (let i = 0; i < 8; i++) sequential.push(await window('coalesce:seq', 5, 60_000, 120_000));
    // A second window on the same key later: the group continues the count and reads the ban's expiry.
    const [group, more] = await Promise.all([
      Promise.all(Array.from({ length: 8 }, () => window('coalesce:group', 5, 60_000, 120_000))),
      Promise.all(Array.from({ length: 3 }, () => window('coalesce:group', 5, 60_000, 120_000))),
    ]);
    expect(scripts).toBe(8 + 1);
    const strip = (states: typeof sequential) => states.map(({ allowed, remaining }) => ({ allowed, remaining }));
    expect(strip(group)).toEqual(strip(sequential));
    expect(group.map((state) => state.reset)).toEqual(
      sequential.map((state) => (state.reset > 60_000 ? 120_000 : 60_000)),
    );
    // The three calls after them in the same tick are counts 9 to 11, banned, and read what is left of the ban.
    expect(more.map((state) => state.allowed)).toEqual([false, false, false]);
    expect(more.every((state) => state.reset === 120_000)).toBe(true);
  });

  it('continues a window started before: counts from the stored one, reports what is left of its expiry', async () => {
    await window('coalesce:later', 10, 60_000, 300_000);
    await (backend.client as Redis).pexpire('coalesce:later', 30_000);
    scripts = 0;
    const states = await Promise.all(Array.from({ length: 4 }, () => window('coalesce:later', 10, 60_000, 300_000)));
    expect(scripts).toBe(1);
    expect(states.map((state) => state.remaining)).toEqual([8, 7, 6, 5]);
    for (const state of states) {
      expect(state.reset).toBeGreaterThan(25_000);
      expect(state.reset).toBeLessThanOrEqual(30_000);
    }
  });

  it('keeps calls with other keys or other limits apart, and a write issued after a call behind it', async () => {
    const client = backend.client as Redis;
    const calls = [window('coalesce:x', 3), window('coalesce:y', 3), window('coalesce:x', 4), window('coalesce:x', 3)];
    // A write after them in the same tick: the calls reach the server first (the key holds their count).
    const write = backend.set('coalesce:after', 'w');
    const states = await Promise.all(calls);
    await write;
    // x with limit 3 (two calls), y, x with limit 4; then the write (the set script, keeping the key's tags).
    expect(scripts).toBe(4);
    // Groups leave in the order of their first call: x with limit 3 counts 1 and 2, then x with limit 4 counts 3.
    expect(states.map((state) => state.remaining)).toEqual([2, 2, 1, 1]);
    expect(await client.get('coalesce:x')).toBe('3');
  });

  it('keeps the window when the ban is shorter than what is left of it, one at a time or in a group', async () => {
    const sequential: WindowState[] = [];
    for (let i = 0; i < 5; i++) sequential.push(await window('coalesce:short-seq', 2, 60_000, 100));
    const together = await Promise.all(Array.from({ length: 5 }, () => window('coalesce:short', 2, 60_000, 100)));
    expect(scripts).toBe(5 + 1);
    expect(sequential.map((state) => state.allowed)).toEqual([true, true, false, false, false]);
    expect(together.map((state) => state.allowed)).toEqual([true, true, false, false, false]);
    // Every call reports the window's end, the call that started the ban included.
    expect(together.every((state) => state.reset === 60_000)).toBe(true);
    expect(await (backend.client as Redis).pttl('coalesce:short')).toBeGreaterThan(50_000);
    // A ban of 0 ms (the command API allows it) adds nothing to the window, and no longer deletes the count.
    const zero = await Promise.all(Array.from({ length: 5 }, () => window('coalesce:zero', 2, 60_000, 0)));
    expect(zero.map((state) => state.allowed)).toEqual([true, true, false, false, false]);
  });

  it("leaves the name of a primitive's many form free: a primitive named fixedWindowMany still runs", async () => {
    const echo = definePrimitive<[value: string], string>({
      name: 'fixedWindowMany',
      lua: `return ARGV[1]`,
      redisArgs: (value) => [value],
      fromRedis: (reply) => String(reply),
      memory: (_entries, _key, value) => value,
      off: (value) => value,
    });
    expect(await backend.run(echo, 'coalesce:echo', 'hello')).toBe('hello');
    // And the rate-limit form still runs its own script.
    expect((await window('coalesce:after-echo', 5)).remaining).toBe(4);
  });

  it('refuses a call of a many form with an argument that is neither a number nor a string, naming the primitive', async () => {
    const tally = definePrimitive<[by: unknown], number>({
      name: 'tallyObjects',
      lua: `return redis.call('INCRBY', KEYS[1], ARGV[1])`,
      redisArgs: (by) => [Number(by)],
      fromRedis: (reply) => Number(reply),
      many: {
        lua: `return redis.call('INCRBY', KEYS[1], ARGV[1] * ARGV[2])`,
        fromRedis: (reply, index) => Number(reply) - index,
      },
      memory: () => 0,
      off: () => 0,
    });
    await expect(backend.run(tally, 'coalesce:objects', { by: 1 })).rejects.toThrow(
      /Primitive "tallyObjects" declares a `many` form, which takes only number or string arguments.*object argument/,
    );
    expect(scripts).toBe(0);
  });

  it('fails every call of a group once when the connection is gone (nothing sent twice)', async () => {
    const client = backend.client as Redis;
    await window('coalesce:gone', 100);
    const calls = Array.from({ length: 5 }, () => window('coalesce:gone', 100));
    client.disconnect();
    const settled = await Promise.allSettled(calls);
    expect(settled.every((result) => result.status === 'rejected')).toBe(true);
    await backend.close();
    backend = new RedisBackend(resolveCacheConfig(redisUrl(DB)!));
    await backend.connect();
    // Never counted: the group was not written before the connection closed, and is not written again.
    expect(Number(await (backend.client as Redis).get('coalesce:gone'))).toBe(1);
  });
});
