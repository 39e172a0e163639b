/**
 * Prefix routing with mixed backends: the longest prefix wins, multi-key commands split and reassemble in input
 * order, scans / deleteMatch / clear cover every backend, prefix URLs are validated at bootstrap. Routes follow the
 * caller's keys under an `addPrefix` hook, and a route other hooks make unreachable is a warning naming it.
 * Redis db 13 (flushed after the file).
 */
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import {
  addPrefix,
  CacheService,
  CashewsConfigError,
  createCache,
  lowerKeys,
  PrefixRouterBackend,
  type CommandHook,
} from '../../lib/index.js';
import { engineOf } from '../../lib/engine/engine-of.js';
import { collect } from '../support/backend-contract.js';
import { describeRedis, flushRedisDb, rawRedis, redisUrl } from '../support/redis.js';

const DB = 13;

describe('prefixes option validation', () => {
  it.each<[string, Record<string, unknown>]>([
    ['a bad URL', { 'a:': 'nope://x' }],
    ['an unknown parameter', { 'a:': 'mem://?sise=1' }],
    ['an instance-level parameter', { 'a:': 'mem://?secret=x' }],
    ['an empty prefix', { '': 'mem://' }],
    ['a non-string URL', { 'a:': 5 }],
  ])('rejects %s with CashewsConfigError', async (_label, prefixes) => {
    await expect(createCache('mem://', { prefixes: prefixes as Record<string, string> })).rejects.toBeInstanceOf(
      CashewsConfigError,
    );
  });

  it('a memory-only router keeps the memory codec (live copies)', async () => {
    const cache = await createCache('mem://', { prefixes: { 'tmp:': 'mem://?size=100' } });
    try {
      expect(cache.backend.kind).toBe('memory');
      await cache.set('tmp:a', new Map([[1, 2]]));
      await expect(cache.get('tmp:a')).resolves.toEqual(new Map([[1, 2]]));
    } finally {
      await cache.close();
    }
  });
});

describeRedis('prefix routing over memory and Redis', () => {
  let cache: CacheService;
  let router: PrefixRouterBackend;
  const redis = (): string => redisUrl(DB) ?? '';

  beforeEach(async () => {
    cache = await createCache('mem://', {
      prefixes: { 'session:': redis(), 'session:tmp:': 'mem://?size=100', 'tmp:': 'mem://?size=100' },
    });
    router = cache.backend as PrefixRouterBackend;
  });

  afterEach(async () => {
    await cache.close();
    await flushRedisDb(DB);
  });

  it('routes by the longest prefix, the rest to the main URL', async () => {
    expect(cache.backend.kind).toBe('redis');
    const raw = rawRedis(redis());
    try {
      await cache.set('session:1', { user: 1 });
      await cache.set('session:tmp:1', 'short-lived');
      await cache.set('tmp:1', 'tmp');
      await cache.set('other', 'main');
      expect(await raw.keys('*')).toEqual(['session:1']);
      expect(router.route('session:tmp:1')).not.toBe(router.route('tmp:1'));
      expect(router.route('other')).toBe(router.fallback);
      await expect(cache.getMany(['other', 'session:tmp:1', 'nope', 'session:1', 'tmp:1', 'other'])).resolves.toEqual([
        'main',
        'short-lived',
        undefined,
        { user: 1 },
        'tmp',
        'main',
      ]);
    } finally {
      raw.disconnect();
    }
  });

  it('setMany and deleteMany split across backends', async () => {
    await cache.setMany({ 'session:a': 1, 'tmp:a': 2, a: 3, 'session:tmp:a': 4 }, { ttl: '1m' });
    await expect(cache.getExpire('session:a')).resolves.toBeGreaterThan(0);
    await expect(cache.getExpire('tmp:a')).resolves.toBeGreaterThan(0);
    await expect(cache.deleteMany(['tmp:a', 'session:a', 'missing', 'a'])).resolves.toBe(3);
    await expect(cache.getMany(['session:a', 'tmp:a', 'a', 'session:tmp:a'])).resolves.toEqual([
      undefined,
      undefined,
      undefined,
      4,
    ]);
  });

  it('scan, deleteMatch and clear cover every backend; a backend only reports keys routed to it', async () => {
    await cache.setMany({ 'session:x': 1, 'session:tmp:x': 2, 'tmp:x': 3, x: 4 });
    // A key in the session database that does not route there is not the instance's.
    const raw = rawRedis(redis());
    try {
      await raw.set('x', '99');
      expect((await collect(cache.scan('*'))).sort()).toEqual(['session:tmp:x', 'session:x', 'tmp:x', 'x']);
      await expect(cache.get('x')).resolves.toBe(4);
      await expect(cache.deleteMatch('*x')).resolves.toBe(4);
      await expect(raw.get('x')).resolves.toBe('99');
      await cache.setMany({ 'session:y': 1, 'tmp:y': 2, y: 3 });
      await cache.clear();
      await expect(collect(cache.scan('*'))).resolves.toEqual([]);
    } finally {
      raw.disconnect();
    }
  });

  it('incr, locks and TTLs go to the owning backend', async () => {
    await expect(cache.incr('session:n', 2)).resolves.toBe(2);
    await expect(cache.incr('tmp:n', 3)).resolves.toBe(3);
    await expect(cache.setLock('session:l', 'me', 5_000)).resolves.toBe(true);
    await expect(cache.setLock('session:l', 'you', 5_000)).resolves.toBe(false);
    await expect(cache.unlock('session:l', 'me')).resolves.toBe(true);
    await cache.set('tmp:t', 1, { ttl: '10s' });
    await expect(cache.expire('session:n', '1m')).resolves.toBe(true);
    expect(await cache.getExpire('session:n')).toBeGreaterThan(50_000);
    expect(await cache.getExpire('tmp:t')).toBeLessThanOrEqual(10_000);
    await expect(cache.ping()).resolves.toBe('PONG');
  });

  it('deleteTags removes tagged keys on every routed backend, and only tagged ones', async () => {
    await cache.set('session:1', 'redis', { tags: ['user:7'] });
    await cache.set('tmp:1', 'memory', { tags: ['user:7'] });
    await cache.set('other:1', 'main memory', { tags: ['user:7', 'user:8'] });
    await cache.set('tmp:2', 'untagged');
    await expect(cache.deleteTags('user:7')).resolves.toBe(3);
    await expect(cache.getMany(['session:1', 'tmp:1', 'other:1', 'tmp:2'])).resolves.toEqual([
      undefined,
      undefined,
      undefined,
      'untagged',
    ]);
    await expect(cache.deleteTags('user:7', 'user:8')).resolves.toBe(0);
  });
});

describeRedis('prefix routing under an addPrefix hook', () => {
  let cache: CacheService;
  let router: PrefixRouterBackend;
  const redis = (): string => redisUrl(DB) ?? '';
  /** The keys a backend of the router holds, as stored. */
  const held = async (key: string) => (await collect(router.route(key).scan('*'))).sort();

  beforeEach(async () => {
    cache = await createCache(redis(), { prefixes: { 'tmp:': 'mem://?size=100' }, hooks: [addPrefix('app:')] });
    router = cache.backend as PrefixRouterBackend;
  });

  afterEach(async () => {
    await cache.close();
    await flushRedisDb(DB);
  });

  it("keys go where the caller's key routes, stored under the prefix, for every command", async () => {
    const raw = rawRedis(redis());
    try {
      await cache.set('tmp:1', 'x', { tags: ['t'] });
      await cache.set('main:1', 'y', { tags: ['t'] });
      await cache.setMany({ 'tmp:2': 2, 'main:2': 2 });
      await expect(cache.incr('tmp:n')).resolves.toBe(1);
      await expect(cache.setLock('tmp:lock', 'me', 5_000)).resolves.toBe(true);
      expect(await held('app:tmp:1')).toEqual(['app:tmp:1', 'app:tmp:2', 'app:tmp:n']);
      expect((await raw.keys('app:*')).sort()).toEqual(['app:main:1', 'app:main:2']);
      await expect(cache.getMany(['main:1', 'tmp:1', 'tmp:2', 'main:2'])).resolves.toEqual(['y', 'x', 2, 2]);
      expect((await collect(cache.scan('*'))).sort()).toEqual(['main:1', 'main:2', 'tmp:1', 'tmp:2', 'tmp:n']);
      await expect(cache.deleteTags('t')).resolves.toBe(2);
      await expect(cache.deleteMany(['tmp:2', 'main:2'])).resolves.toBe(2);
      await expect(cache.deleteMatch('tmp:*')).resolves.toBe(1);
      expect(await held('app:tmp:1')).toEqual([]);
      expect(await raw.keys('app:*')).toEqual([]);
    } finally {
      raw.disconnect();
    }
  });
});

describe('prefix routes that hooks make unreachable', () => {
  let warn: ReturnType<typeof spyWarn>;
  const spyWarn = () => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  beforeEach(() => {
    warn = spyWarn();
  });
  afterEach(() => warn.mockRestore());

  const warnings = (): string[] => warn.mock.calls.map(([message]) => String(message));

  it('a route the hooks send elsewhere is a warning naming it; routes they honour are not', async () => {
    // Keys lower-cased: "Tmp:" can never match; "tmp:" still does.
    const cache = await createCache('mem://', {
      prefixes: { 'Tmp:': 'mem://?size=10', 'tmp:': 'mem://?size=10' },
      hooks: [addPrefix('App:'), lowerKeys()],
    });
    try {
      await engineOf(cache).routesChecked;
      expect(warnings()).toEqual([expect.stringContaining('Prefix route "Tmp:" cannot be honoured')]);
      await cache.set('tmp:1', 1);
      expect(await collect((cache.backend as PrefixRouterBackend).route('app:tmp:1').scan('*'))).toEqual(['app:tmp:1']);
    } finally {
      await cache.close();
    }
  });

  it('a hook of the application that rewrites keys is checked by calling it, when added later too', async () => {
    const versioned: CommandHook = {
      name: 'versioned',
      handle: (call, next) =>
        call.command === 'exists' ? next({ command: 'exists', args: [`v2/${call.args[0]}`] }) : next(call),
    };
    const cache = await createCache('mem://', { prefixes: { 'tmp:': 'mem://?size=10' } });
    try {
      cache.addHook(versioned);
      await engineOf(cache).routesChecked;
      expect(warnings()).toEqual([
        expect.stringMatching(/Prefix route "tmp:" cannot be honoured: .*\(versioned\).*"v2\/tmp:/),
      ]);
    } finally {
      await cache.close();
    }
  });
});
