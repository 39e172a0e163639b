/**
 * Issue #15, "headers without a tax": a hit reported to a detection scope carries its remaining TTL. On memory the
 * backend answers it synchronously, so a hit costs no `getExpire` command; on Redis the value and its remaining TTL
 * (`GET` and `PTTL`) leave together, in one write, so a detected hit costs one round trip as an undetected one does;
 * where a hook must see every command, the remaining TTL is asked with `getExpire` as before. All give the same
 * figure.
 */
import { randomUUID } from 'node:crypto';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Command, Redis } from 'ioredis';
import {
  Cache,
  CacheDetect,
  CacheService,
  CashewsModule,
  MemoryBackend,
  onCommand,
  RedisBackend,
} from '../../lib/index.js';
import { redisUrl } from '../support/redis.js';

@Injectable()
class Prices {
  @Cache({ ttl: '1m', key: 'remaining-ttl:{id}' })
  async price(id: string): Promise<number> {
    return id.length;
  }
}

async function start(url: string, hooks = false) {
  const commands: string[] = [];
  const options = hooks ? { hooks: [onCommand('getExpire', (key) => void commands.push(String(key)))] } : {};
  @Module({ imports: [CashewsModule.forRoot(url, options)], providers: [Prices] })
  class AppModule {}
  const app = await Test.createTestingModule({ imports: [AppModule] }).compile();
  await app.init();
  return { app, prices: app.get(Prices), commands };
}

describe('the remaining TTL of a reported hit', () => {
  it('on memory: reported without a getExpire command', async () => {
    const getExpire = MemoryBackend.prototype.getExpire;
    let asked = 0;
    MemoryBackend.prototype.getExpire = function (key: string) {
      asked++;
      return getExpire.call(this, key);
    };
    const { app, prices } = await start('mem://');
    try {
      await prices.price('42');
      const { hits } = await CacheDetect.run(() => prices.price('42'));
      expect(hits).toHaveLength(1);
      expect(hits[0].ttl).toBeGreaterThan(55_000);
      expect(hits[0].ttl).toBeLessThanOrEqual(60_000);
      expect(asked).toBe(0);
    } finally {
      MemoryBackend.prototype.getExpire = getExpire;
      await app.close();
    }
  });

  it('with a hook, the getExpire command goes through the pipeline (the hook sees it), with the same figure', async () => {
    const { app, prices, commands } = await start('mem://', true);
    try {
      await prices.price('7');
      const { hits } = await CacheDetect.run(() => prices.price('7'));
      expect(hits[0].ttl).toBeGreaterThan(55_000);
      expect(commands).toEqual(["remaining-ttl:'7'"]);
    } finally {
      await app.close();
    }
  });

  (redisUrl() ? it : it.skip)(
    'on Redis: value and remaining TTL asked together, in one write (one round trip)',
    async () => {
      const { app, prices } = await start(redisUrl()!);
      const id = `redis-${randomUUID()}`;
      const client = (app.get(CacheService).backend as RedisBackend).client as Redis;
      // What reaches the socket: the commands sent and how many writes carry them. A command written only after the
      // reply of another (the TTL asked once the value came back) is a second write, and a second round trip.
      const sent: string[] = [];
      let writes = 0;
      const sendCommand = client.sendCommand.bind(client);
      client.sendCommand = ((command: Command, ...rest: unknown[]) => {
        sent.push(command.name);
        return (sendCommand as (...a: unknown[]) => unknown)(command, ...rest);
      }) as typeof client.sendCommand;
      // Writes made while the socket is corked leave together when it is uncorked: one write.
      const stream = client.stream as { write: (...a: unknown[]) => boolean; uncork(): void; writableCorked: number };
      const write = stream.write.bind(stream);
      const uncork = stream.uncork.bind(stream);
      stream.write = (...args: unknown[]) => {
        if (stream.writableCorked === 0) writes++;
        return write(...args);
      };
      stream.uncork = () => {
        if (stream.writableCorked === 1) writes++;
        uncork();
      };
      try {
        await prices.price(id);
        sent.length = 0;
        writes = 0;
        const { hits } = await CacheDetect.run(() => prices.price(id));
        expect(hits).toHaveLength(1);
        expect(hits[0].ttl).toBeGreaterThan(55_000);
        expect(hits[0].ttl).toBeLessThanOrEqual(60_000);
        expect(hits[0].age).toBeGreaterThanOrEqual(0);
        expect(sent.sort()).toEqual(['get', 'pttl']);
        expect(writes).toBe(1);
        // Outside a detection scope a hit asks nothing but the value.
        sent.length = 0;
        writes = 0;
        await prices.price(id);
        expect(sent).toEqual(['get']);
        // A detected miss reports nothing and does not fail.
        sent.length = 0;
        const other = `redis-${randomUUID()}`;
        const { hits: none } = await CacheDetect.run(() => prices.price(other));
        expect(none).toHaveLength(0);
        await app.get(CacheService).delete(`remaining-ttl:${other}`);
      } finally {
        client.sendCommand = sendCommand as typeof client.sendCommand;
        stream.write = write;
        stream.uncork = uncork;
        await app.get(CacheService).delete(`remaining-ttl:${id}`);
        await app.close();
      }
    },
  );

  (redisUrl() ? it : it.skip)(
    'on Redis with a hook: the hook sees get then getExpire, with the same figure',
    async () => {
      const { app, prices, commands } = await start(redisUrl()!, true);
      const id = `redis-${randomUUID()}`;
      try {
        await prices.price(id);
        const { hits } = await CacheDetect.run(() => prices.price(id));
        expect(hits[0].ttl).toBeGreaterThan(55_000);
        expect(commands).toEqual([`remaining-ttl:${id}`]);
      } finally {
        await app.get(CacheService).delete(`remaining-ttl:${id}`);
        await app.close();
      }
    },
  );
});
