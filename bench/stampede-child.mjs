// One process of the cross-process stampede scenario: waits for the `go` key, then fires `calls`
// concurrent cold calls of an @Cache({ lock: true }) method and prints how many values it got.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cache, CacheService, CashewsModule } from '../dist/esm/entry.js';

const [url, prefix, callsText] = process.argv.slice(2);
const calls = Number(callsText);

class Catalogue {
  async build() {
    // The execution counter lives in Redis so the parent can count runs across processes.
    await this.cache.incr(`${prefix}:executions`);
    await sleep(200);
    return { built: true };
  }
}
Cache({ ttl: '1m', key: `${prefix}:catalogue`, lock: true })(
  Catalogue.prototype,
  'build',
  Object.getOwnPropertyDescriptor(Catalogue.prototype, 'build'),
);
Injectable()(Catalogue);
class ChildModule {}
Module({ imports: [CashewsModule.forRoot(url)], providers: [Catalogue] })(ChildModule);

const app = await NestFactory.createApplicationContext(ChildModule, { logger: false });
const catalogue = app.get(Catalogue);
catalogue.cache = app.get(CacheService);
const deadline = Date.now() + 10_000;
while (!(await catalogue.cache.exists(`${prefix}:go`)) && Date.now() < deadline) await sleep(5);
const results = await Promise.all(Array.from({ length: calls }, () => catalogue.build()));
process.stdout.write(JSON.stringify({ answered: results.filter((r) => r?.built === true).length }) + '\n');
await app.close();
