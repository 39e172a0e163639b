/**
 * Issue #15, "headers without a tax": a hit reported to a detection scope carries its remaining TTL. On memory the
 * backend answers it synchronously, so a hit costs no `getExpire` command; where a hook must see every command, or
 * on Redis, the remaining TTL is asked with `getExpire` as before. Both give the same figure.
 */
import { randomUUID } from 'node:crypto';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Cache, CacheDetect, CacheService, CashewsModule, MemoryBackend, onCommand } from '../../lib/index.js';
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

  (redisUrl() ? it : it.skip)('on Redis: asked with getExpire', async () => {
    const { app, prices } = await start(redisUrl()!);
    const id = `redis-${randomUUID()}`;
    try {
      await prices.price(id);
      const { hits } = await CacheDetect.run(() => prices.price(id));
      expect(hits[0].ttl).toBeGreaterThan(55_000);
      expect(hits[0].ttl).toBeLessThanOrEqual(60_000);
    } finally {
      await app.get(CacheService).delete(`remaining-ttl:'${id}'`);
      await app.close();
    }
  });
});
