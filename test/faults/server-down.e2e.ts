/**
 * Fault injection on a private redis-server per test (started on a free loopback port, stopped afterwards):
 * server stopped and restarted, server frozen with SIGSTOP, strict mode, nothing listening.
 * Every wait is bounded; every call is raced against a deadline so a hang fails the test instead of the run.
 */
import { CacheBackendError, CacheService, ClientSideBackend, createCache, RedisBackend } from '../../lib/index.js';
import {
  describeRedisServer,
  freePort,
  pollUntil,
  rawRedis,
  sleep,
  startRedisServer,
  withQuery,
  type RedisServerHandle,
} from '../support/redis.js';
import { within } from './fault-support.js';

const HANG_MS = 3000;

async function timed<T>(promise: Promise<T>): Promise<{ value: T; elapsed: number }> {
  const started = Date.now();
  const value = await promise;
  return { value, elapsed: Date.now() - started };
}

describeRedisServer('faults: server down, frozen or absent', () => {
  let server: RedisServerHandle;
  const caches: CacheService[] = [];

  async function open(params: Record<string, string>): Promise<CacheService> {
    const cache = await within(createCache(withQuery(server.url, params)), 10_000, 'createCache');
    caches.push(cache);
    return cache;
  }

  beforeEach(async () => {
    server = await startRedisServer();
  });

  afterEach(async () => {
    server.resume();
    const closing = caches.splice(0).map((cache) => within(cache.close(), 5000, 'close').catch(() => undefined));
    await Promise.all(closing);
    await server.stop();
  });

  it('(a) safe mode: calls keep answering misses while the server is down and recover after a restart', async () => {
    const cache = await open({ command_timeout: '300ms', connect_timeout: '300ms' });
    await expect(cache.set('fault:a', 'before')).resolves.toBe(true);
    await expect(cache.get('fault:a')).resolves.toBe('before');

    const outcomes: Array<{ phase: string; get: unknown; set: unknown }> = [];
    for (let i = 0; i < 12; i++) {
      if (i === 3) await server.stop();
      const phase = i < 3 ? 'up' : 'down';
      const get = await within(cache.get(`fault:a:${i}`), HANG_MS, `get #${i}`);
      const set = await within(cache.set(`fault:a:${i}`, i), HANG_MS, `set #${i}`);
      outcomes.push({ phase, get, set });
      await sleep(20);
    }
    expect(outcomes.filter((o) => o.phase === 'up').every((o) => o.set === true)).toBe(true);
    for (const outcome of outcomes.filter((o) => o.phase === 'down')) {
      expect(outcome).toEqual({ phase: 'down', get: undefined, set: false });
    }
    await expect(within(cache.get('fault:a', 'dflt'), HANG_MS, 'get with default')).resolves.toBe('dflt');
    await expect(within(cache.exists('fault:a'), HANG_MS, 'exists')).resolves.toBe(false);
    await expect(within(cache.getMany(['fault:a', 'x']), HANG_MS, 'getMany')).resolves.toEqual([undefined, undefined]);
    await expect(within(cache.delete('fault:a'), HANG_MS, 'delete')).resolves.toBe(false);
    // No honest fallback answer for these: they throw even in safe mode.
    await expect(within(cache.incr('fault:a:n'), HANG_MS, 'incr')).rejects.toBeInstanceOf(CacheBackendError);
    await expect(within(cache.ping(), HANG_MS, 'ping')).rejects.toBeInstanceOf(CacheBackendError);

    await server.restart();
    const recovered = await pollUntil(
      async () =>
        (await within(cache.set('fault:a:after', 'again'), HANG_MS, 'set after restart')) &&
        (await within(cache.get('fault:a:after'), HANG_MS, 'get after restart')) === 'again',
      10_000,
      100,
    );
    expect(recovered).toBe(true);
    await expect(cache.ping()).resolves.toBe('PONG');
    await expect(cache.incr('fault:a:n')).resolves.toBe(1);
  });

  it('(b) safe mode: a frozen server (SIGSTOP) turns a get into a miss within the command timeout', async () => {
    const cache = await open({ command_timeout: '300ms' });
    await cache.set('fault:b', 'value');
    server.pause();
    try {
      const { value, elapsed } = await timed(within(cache.get('fault:b'), HANG_MS, 'get while frozen'));
      expect(value).toBeUndefined();
      expect(elapsed).toBeLessThan(1500);
      const setResult = await timed(within(cache.set('fault:b', 'other'), HANG_MS, 'set while frozen'));
      expect(setResult.value).toBe(false);
      expect(setResult.elapsed).toBeLessThan(1500);
      await expect(within(cache.ping(), HANG_MS, 'ping while frozen')).rejects.toBeInstanceOf(CacheBackendError);
    } finally {
      server.resume();
    }
    const recovered = await pollUntil(
      async () => (await within(cache.get('fault:b'), HANG_MS, 'get after SIGCONT')) !== undefined,
      10_000,
      100,
    );
    expect(recovered).toBe(true);
  });

  it('(c) safe: false: a frozen or stopped server makes commands throw CacheBackendError', async () => {
    const cache = await open({ command_timeout: '300ms', connect_timeout: '300ms', safe: '0' });
    await expect(cache.set('fault:c', 1)).resolves.toBe(true);
    server.pause();
    try {
      const started = Date.now();
      await expect(within(cache.get('fault:c'), HANG_MS, 'strict get while frozen')).rejects.toBeInstanceOf(
        CacheBackendError,
      );
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      server.resume();
    }
    await server.stop();
    await expect(within(cache.get('fault:c'), HANG_MS, 'strict get while down')).rejects.toBeInstanceOf(
      CacheBackendError,
    );
    await expect(within(cache.set('fault:c', 2), HANG_MS, 'strict set while down')).rejects.toMatchObject({
      code: 'CASHEWS_BACKEND',
    });
  });

  it('(c) the options object can turn safe mode off too', async () => {
    const cache = await within(
      createCache(server.url, { safe: false, commandTimeout: 300, connectTimeout: '300ms' }),
      10_000,
      'createCache',
    );
    caches.push(cache);
    server.pause();
    try {
      await expect(within(cache.exists('fault:c2'), HANG_MS, 'strict exists')).rejects.toBeInstanceOf(
        CacheBackendError,
      );
    } finally {
      server.resume();
    }
  });

  it.each<[string, Record<string, string>]>([
    ['', {}],
    [' (client_side=1)', { client_side: '1' }],
  ])('(e) close()%s returns within a bound while the server is frozen (SIGSTOP)', async (_, extra) => {
    const cache = await open({ command_timeout: '500ms', ...extra });
    await expect(cache.set('fault:e', 1)).resolves.toBe(true);
    server.pause();
    // QUIT is never answered: close() waits for it at most command_timeout, then drops the connections.
    const { elapsed } = await timed(within(cache.close(), 5000, 'close while frozen'));
    expect(elapsed).toBeLessThan(HANG_MS);
    expect((cache.backend as RedisBackend).client.status).toBe('end');
    if (extra.client_side) expect((cache.backend as ClientSideBackend).subscriber.status).toBe('end');
  });

  it('(e) close() still ends gracefully (QUIT) when the server answers late: commands in flight get their reply', async () => {
    const cache = await open({ command_timeout: '1s' });
    await expect(cache.set('fault:e2', 'before')).resolves.toBe(true);
    server.pause();
    const write = cache.set('fault:e2', 'after');
    await sleep(50); // the SET is written and awaits its reply
    const closing = cache.close();
    // Frozen for less than the QUIT bound: the write and QUIT are answered once it resumes.
    await sleep(300);
    server.resume();
    await within(closing, 5000, 'close after resume');
    await expect(write).resolves.toBe(true);
    const raw = rawRedis(server.url);
    try {
      await expect(raw.get('fault:e2')).resolves.toContain('after');
    } finally {
      raw.disconnect();
    }
  });

  it('(d) nothing listening: safe mode still creates the cache and answers misses; strict mode rejects', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;

    const { value: cache, elapsed } = await timed(
      within(createCache(withQuery(url, { connect_timeout: '300ms', command_timeout: '300ms' })), 5000, 'createCache'),
    );
    caches.push(cache);
    expect(elapsed).toBeLessThan(3000);
    await expect(within(cache.get('fault:d'), HANG_MS, 'get')).resolves.toBeUndefined();
    await expect(within(cache.set('fault:d', 1), HANG_MS, 'set')).resolves.toBe(false);
    await expect(
      within(
        cache.getOrSet('fault:d', () => 'computed'),
        HANG_MS,
        'getOrSet',
      ),
    ).resolves.toBe('computed');

    const strict = within(
      createCache(withQuery(url, { connect_timeout: '300ms', safe: '0' })),
      5000,
      'strict createCache',
    );
    const outcome = await strict.then(
      (unexpected) => {
        caches.push(unexpected);
        return 'resolved';
      },
      (error: unknown) => error,
    );
    expect(outcome).toBeInstanceOf(CacheBackendError);
  });
});
