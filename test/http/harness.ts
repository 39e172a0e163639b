/**
 * Shared harness of the HTTP e2e suites: builds one Nest application per (adapter, backend) case, and
 * keeps each suite's Redis keys apart by a per-file key prefix instead of flushing, so the HTTP files may
 * run in parallel Jest workers on the same database (db 10).
 */
import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { CacheHeadersInterceptor, CacheService, CashewsInterceptor, CashewsModule } from '../../lib/index.js';
import { redisUrl } from '../support/redis.js';

/** Redis database of the HTTP suites. Only keys under each file's prefix are ever deleted. */
export const HTTP_DB = 10;

export type AdapterName = 'express' | 'fastify';
export type BackendName = 'mem' | 'redis';

export interface Case {
  adapter: AdapterName;
  backend: BackendName;
  /** Undefined for a Redis case when no Redis was found (the suite is then skipped). */
  url: string | undefined;
}

export const ADAPTERS: AdapterName[] = ['express', 'fastify'];

/** Every adapter over mem:// and over Redis db 10. */
export function allCases(): Case[] {
  const cases: Case[] = [];
  for (const adapter of ADAPTERS) {
    cases.push({ adapter, backend: 'mem', url: 'mem://' });
    cases.push({ adapter, backend: 'redis', url: redisUrl(HTTP_DB) });
  }
  return cases;
}

/** `describe.each` over cases, skipping (with the reason in the title) Redis cases when Redis is absent. */
export function describeCases(title: string, cases: Case[], fn: (c: Case) => void): void {
  for (const c of cases) {
    const name = `${title} [${c.adapter} / ${c.backend}]`;
    if (c.url) describe(name, () => fn(c));
    else describe.skip(`${name} [no Redis]`, () => fn(c));
  }
}

export interface TestApp {
  app: INestApplication;
  cache: CacheService;
  server: ReturnType<INestApplication['getHttpServer']>;
  close(): Promise<void>;
}

export interface AppSpec {
  controllers?: Type<unknown>[];
  providers?: Type<unknown>[];
  imports?: Array<Type<unknown> | DynamicModule>;
  /** Module options besides the URL (`keyContext`, `detectHeaders`…). */
  options?: Parameters<typeof CashewsModule.forRoot>[1];
  /** Trust proxy headers (`X-Forwarded-Host`…): Express's `trust proxy`, Fastify's `trustProxy`. */
  trustProxy?: boolean;
}

/** Creates and initialises the application of one case. */
export async function createTestApp(c: Case, spec: AppSpec): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [CashewsModule.forRoot(c.url ?? 'mem://', spec.options), ...(spec.imports ?? [])],
    controllers: spec.controllers ?? [],
    providers: spec.providers ?? [],
  }).compile();
  const app =
    c.adapter === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(
          new FastifyAdapter(spec.trustProxy ? { trustProxy: true } : undefined),
          { logger: false },
        )
      : moduleRef.createNestApplication({ logger: false });
  if (spec.trustProxy && c.adapter === 'express')
    (app.getHttpAdapter().getInstance() as { set(name: string, value: unknown): void }).set('trust proxy', true);
  await app.init();
  if (c.adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return {
    app,
    cache: app.get(CacheService),
    server: app.getHttpServer(),
    close: () => app.close(),
  };
}

/** Every key under `prefix:` in the cache, sorted. */
export async function keysUnder(cache: CacheService, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of cache.scan(`${prefix}:*`)) keys.push(key);
  return keys.sort();
}

/**
 * Deletes this suite's keys and their protection state (locks, such as @Early's refresh lock, left to expire after
 * a refresh; rate limits) (Redis survives between apps; mem:// dies with the app anyway).
 */
export async function clearPrefix(url: string | undefined, prefix: string): Promise<void> {
  if (!url || url.startsWith('mem://')) return;
  const { createCache } = await import('../../lib/index.js');
  const cache = await createCache(url);
  try {
    await cache.deleteMatch(`${prefix}:*`);
    await cache.resetProtection(`${prefix}:*`);
  } finally {
    await cache.close();
  }
}

/** A counter per handler, reset before each test. */
export class Counter {
  private counts = new Map<string, number>();
  hit(name: string): number {
    const n = (this.counts.get(name) ?? 0) + 1;
    this.counts.set(name, n);
    return n;
  }
  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }
  reset(): void {
    this.counts.clear();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Counts the calls of the library's interceptors (headers and strategies) until `restore()`: which routes enter an
 * interceptor at all (direct routes and undecorated routes do not).
 */
export function countInterceptors() {
  const counts = { headers: 0, strategies: 0 };
  const headers = CacheHeadersInterceptor.prototype.intercept;
  const strategies = CashewsInterceptor.prototype.intercept;
  CacheHeadersInterceptor.prototype.intercept = function (...args) {
    counts.headers++;
    return headers.apply(this, args);
  };
  CashewsInterceptor.prototype.intercept = function (...args) {
    counts.strategies++;
    return strategies.apply(this, args);
  };
  return {
    counts,
    restore() {
      CacheHeadersInterceptor.prototype.intercept = headers;
      CashewsInterceptor.prototype.intercept = strategies;
    },
  };
}
