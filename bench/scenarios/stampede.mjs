// Stampede protection, counted exactly: concurrent cold calls of one key must run the method once,
// in one process (in-process single flight) and across 4 processes (`lock: true`, Redis lock).
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const name = 'stampede';
export const description = 'cold-call stampede: executions of the decorated method';

const execFileAsync = promisify(execFile);

async function inProcess(lib) {
  const { Cache, CashewsModule } = lib;
  let executions = 0;
  class Catalogue {
    async build() {
      executions++;
      await sleep(50);
      return { built: true };
    }
  }
  Cache({ ttl: '1m' })(Catalogue.prototype, 'build', Object.getOwnPropertyDescriptor(Catalogue.prototype, 'build'));
  Injectable()(Catalogue);
  class M {}
  Module({ imports: [CashewsModule.forRoot('mem://')], providers: [Catalogue] })(M);
  const app = await NestFactory.createApplicationContext(M, { logger: false });
  try {
    const catalogue = app.get(Catalogue);
    const results = await Promise.all(Array.from({ length: 1000 }, () => catalogue.build()));
    return { executions, answered: results.filter((r) => r?.built).length };
  } finally {
    await app.close();
  }
}

async function acrossProcesses(lib, url) {
  const { createCache } = lib;
  const cache = await createCache(url);
  const prefix = `bench:stampede:${process.pid}:${Date.now()}`;
  const child = fileURLToPath(new URL('../stampede-child.mjs', import.meta.url));
  try {
    const children = Array.from({ length: 4 }, () =>
      execFileAsync(process.execPath, [child, url, prefix, '250'], { timeout: 30_000 }),
    );
    await sleep(1500); // let every child connect and start polling for `go`
    await cache.set(`${prefix}:go`, 1, { ttl: '1m' });
    const outputs = await Promise.all(children);
    const answered = outputs.reduce((sum, { stdout }) => sum + JSON.parse(stdout.trim().split('\n').pop()).answered, 0);
    return { executions: (await cache.get(`${prefix}:executions`)) ?? 0, answered };
  } finally {
    await cache.deleteMatch(`${prefix}:*`);
    await cache.close();
  }
}

export async function run(ctx) {
  const lib = await ctx.lib('Cache', 'CashewsModule', 'createCache');
  const local = await inProcess(lib);
  const checks = [
    {
      label: '1 process x 1000 concurrent cold calls, mem://',
      value: local.executions,
      expected: 1,
      detail: `${local.answered}/1000 callers answered`,
    },
  ];
  let url;
  try {
    url = ctx.redisUrl();
  } catch (error) {
    ctx.log(`  cross-process check skipped: ${error.message}`);
  }
  if (url) {
    const shared = await acrossProcesses(lib, url);
    checks.push({
      label: '4 processes x 250 concurrent cold calls, Redis, lock: true',
      value: shared.executions,
      expected: 1,
      detail: `${shared.answered}/1000 callers answered`,
    });
  }
  return { checks };
}
