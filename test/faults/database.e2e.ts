/**
 * Issue #9 item 4: a database the server does not have must never silently become db 0. Bootstrap fails with a
 * CashewsConfigError naming the database and the server's limit (safe mode included); after a reconnect to a
 * server that lost the database, the connection is not used until SELECT succeeds.
 */
import { CashewsConfigError, type CacheService, createCache } from '../../lib/index.js';
import {
  describeRedisServer,
  pollUntil,
  rawRedis,
  startRedisServer,
  withQuery,
  type RedisServerHandle,
} from '../support/redis.js';

describeRedisServer('faults: a database the server does not have', () => {
  let server: RedisServerHandle | undefined;
  const caches: CacheService[] = [];

  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
    await server?.stop();
    server = undefined;
  });

  async function dbSize(db: number): Promise<number> {
    const raw = rawRedis(`${server!.url}/${db}`);
    try {
      return await raw.dbsize();
    } finally {
      raw.disconnect();
    }
  }

  it('is a CashewsConfigError at bootstrap naming the database and the server limit, in safe mode too', async () => {
    server = await startRedisServer({ extraArgs: () => ['--databases', '16'] });
    for (const safe of ['1', '0']) {
      const error = await createCache(withQuery(`${server.url}/99`, { safe, connect_timeout: '1s' })).then(
        (cache) => {
          caches.push(cache);
          return undefined;
        },
        (rejection: unknown) => rejection,
      );
      expect(error).toBeInstanceOf(CashewsConfigError);
      expect((error as Error).message).toMatch(/Database 99 .*the server has 16 databases \(0 to 15\)/);
    }
    // Nothing was written anywhere, db 0 least of all.
    expect(await dbSize(0)).toBe(0);
  });

  it('names the server error when CONFIG is disabled (managed servers)', async () => {
    server = await startRedisServer({ extraArgs: () => ['--databases', '4', '--rename-command', 'CONFIG', '""'] });
    const error = await createCache(`${server.url}/7`).catch((rejection: unknown) => rejection);
    expect(error).toBeInstanceOf(CashewsConfigError);
    expect((error as Error).message).toMatch(/Database 7 .*refused it \(".*DB index is out of range"\)/i);
  });

  it('an existing database still boots and writes there', async () => {
    server = await startRedisServer({ extraArgs: () => ['--databases', '16'] });
    const cache = await createCache(`${server.url}/15`);
    caches.push(cache);
    await expect(cache.set('db:k', 'v')).resolves.toBe(true);
    expect([await dbSize(15), await dbSize(0)]).toEqual([1, 0]);
  });

  it('after a reconnect to a server without the database, nothing runs on db 0 until SELECT succeeds', async () => {
    let databases = 16;
    server = await startRedisServer({ extraArgs: () => ['--databases', String(databases)] });
    const cache = await createCache(withQuery(`${server.url}/9`, { command_timeout: '500ms' }));
    caches.push(cache);
    await expect(cache.set('db:before', 1)).resolves.toBe(true);

    databases = 4;
    await server.restart();
    // Give the client every chance to reconnect (retry pauses grow to 2 s) and write somewhere.
    const deadline = Date.now() + 3_000;
    const answers: boolean[] = [];
    while (Date.now() < deadline) {
      answers.push(await cache.set(`db:during:${answers.length}`, 1));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Safe mode: each write is refused (false), none lands in db 0.
    expect(answers.every((written) => written === false)).toBe(true);
    expect(await dbSize(0)).toBe(0);

    databases = 16;
    await server.restart();
    const recovered = await pollUntil(() => cache.set('db:after', 'back'), 10_000, 100);
    expect(recovered).toBe(true);
    expect([await dbSize(9), await dbSize(0)]).toEqual([1, 0]);
    await expect(cache.get('db:after')).resolves.toBe('back');
  });
});
