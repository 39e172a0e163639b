/**
 * Shared fixtures of the strategy e2e suites (test/strategies/*.e2e-spec.ts): each suite runs on `mem://` and on
 * database 8 of the discovered Redis, inside a real Nest application.
 *
 * Redis isolation: these suites only use database 8, and never FLUSHDB it (suites may run in parallel workers):
 * every class name and key template of a suite starts with the suite's own tag, and {@link cleanup} deletes
 * `tag*` (keys and protection state) before each test.
 */
import type { INestApplication, Type } from '@nestjs/common';
import { jest } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { CacheService, CashewsModule, createCache, type Duration } from '../../lib/index.js';
import { PROTECTED_PREFIX } from '../../lib/keys/protected-keys.js';
import { pollUntil, redisSkipReason, redisUrl } from './redis.js';

export const STRATEGY_DB = 8;

export interface BackendCase {
  label: string;
  /** Resolved lazily: global setup fills the environment before tests run. */
  url: string;
}

/** `mem://` always; Redis db 8 when a Redis is available (otherwise that case is skipped with the reason). */
export function backendCases(): BackendCase[] {
  const cases: BackendCase[] = [{ label: 'mem://', url: 'mem://' }];
  const redis = redisUrl(STRATEGY_DB);
  if (redis) cases.push({ label: 'redis db 8', url: redis });
  return cases;
}

/** `describe.each` over {@link backendCases}; announces a skipped Redis case. */
export function describeBackends(name: string, fn: (backend: BackendCase) => void): void {
  if (!redisUrl()) describe.skip(`${name} on redis [${redisSkipReason()}]`, () => fn({ label: 'redis', url: '' }));
  describe.each(backendCases())(`${name} on $label`, fn);
}

const apps: INestApplication[] = [];

/** What {@link startApp} may add: the instance's default TTL, controllers. */
export interface AppExtras {
  ttl?: Duration;
  controllers?: Type[];
}

/** A real Nest application with `CashewsModule.forRoot(url)` and `providers`, initialized. */
export async function startApp(
  url: string,
  providers: Array<new (...args: never[]) => unknown>,
  { ttl, controllers = [] }: AppExtras = {},
) {
  const moduleRef = await Test.createTestingModule({
    imports: [CashewsModule.forRoot(url, ttl === undefined ? {} : { ttl })],
    providers,
    controllers,
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  apps.push(app);
  await app.init();
  return { app, cache: app.get(CacheService) };
}

/** Closes every app started by {@link startApp}; call it in `afterEach`. */
export async function closeApps(): Promise<void> {
  while (apps.length) await apps.pop()!.close();
}

/** Deletes the suite's keys (`tag*`) in Redis db 8 before a test; `mem://` starts empty with every app. */
export async function cleanup(url: string, tag: string): Promise<void> {
  if (!url.startsWith('redis')) return;
  const cache = await createCache(url);
  try {
    await cache.deleteMatch(`${tag}*`);
    await cache.resetProtection(`${tag}*`);
  } finally {
    await cache.close();
  }
}

/** Names of the protection state (locks, rate limits, circuits; out of reach of `scan`) matching `pattern`, sorted. */
export async function protectionKeysOf(cache: CacheService, pattern = '*'): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of cache.backend.scan(PROTECTED_PREFIX + pattern)) keys.push(key.slice(PROTECTED_PREFIX.length));
  return keys.sort();
}

/** Every key stored under `pattern` (`*` wildcard), sorted. */
export async function keysOf(cache: CacheService, pattern = '*'): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of cache.scan(pattern)) keys.push(key);
  return keys.sort();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * What `promise` answers, or `late` if it has not settled within `ms`. The timer is cleared either way: a bare
 * `Promise.race([promise, sleep(ms)])` leaves it running after the test, and a Jest worker holding a timer when the
 * run ends is force-exited ("A worker process has failed to exit gracefully").
 */
export async function orAfter<T>(promise: Promise<T>, ms: number, late: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(late), ms)));
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A promise with its resolve/reject exposed, for holding a method open. */
/**
 * Holds the runs of a test upstream: while held, `wait()` gives a promise that `release()` resolves for every run
 * held so far; `letNewRunsThrough()` lets later runs pass while those already held stay held.
 */
export class Gate {
  private held?: ReturnType<typeof deferred<void>>;
  private stillHeld: Array<() => void> = [];

  hold(): void {
    this.held = deferred();
  }

  release(): void {
    this.held?.resolve();
    for (const resolve of this.stillHeld) resolve();
    this.held = undefined;
    this.stillHeld = [];
  }

  letNewRunsThrough(): void {
    if (this.held) this.stillHeld.push(this.held.resolve);
    this.held = undefined;
  }

  wait(): Promise<void> | undefined {
    return this.held?.promise;
  }
}

export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Resolves to the error `promise` rejected with; fails if it resolved. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** Key reads (hits and misses) `cache` has answered so far, over every backend route. */
export function readsOf(cache: CacheService): number {
  return cache.stats().backends.reduce((total, backend) => total + backend.hits + backend.misses, 0);
}

/**
 * Starts `count` concurrent `call()`s while `subject`'s method is held at its gate, and opens the gate only once
 * `joined()` holds (polled, at most 10 s): every caller is then inside the run or waiting for it, whatever the
 * machine's speed, where a method that merely sleeps would have to outlast the callers' reads. The callers' last
 * steps after what `joined()` observes are promise continuations, so one turn of the event loop lets them arrive.
 */
export async function heldCalls<T>(
  subject: { gate?: Promise<void> },
  count: number,
  call: () => Promise<T>,
  joined: () => boolean | Promise<boolean>,
): Promise<Array<PromiseSettledResult<T>>> {
  const gate = deferred();
  subject.gate = gate.promise;
  const calls = Array.from({ length: count }, call);
  const ready = await pollUntil(async () => joined(), 10_000, 1);
  await new Promise((resolve) => setImmediate(resolve));
  subject.gate = undefined;
  gate.resolve();
  const settled = await Promise.allSettled(calls);
  if (!ready) throw new Error(`the ${count} callers did not all join the run within 10 s`);
  return settled;
}

/**
 * Fakes only the given clocks: `Date` (what @Early and @Soft age a stored value with) or `performance` (what
 * durations are measured with, and mem:// TTLs), so that `jest.setSystemTime()` / `jest.advanceTimersByTime()` move
 * exactly that time while timers, sockets and Redis keep real time. Undo with `jest.useRealTimers()`.
 */
export function fakeClocks(...clocks: Array<'Date' | 'performance'>): void {
  const real: Array<'Date' | 'performance'> = (['Date', 'performance'] as const).filter((c) => !clocks.includes(c));
  jest.useFakeTimers({
    doNotFake: [
      ...real,
      'hrtime',
      'nextTick',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
}

/** Tracks how many calls overlap, to prove a lock serializes them. */
export class Concurrency {
  current = 0;
  max = 0;
  async run<T>(fn: () => Promise<T>): Promise<T> {
    this.current++;
    this.max = Math.max(this.max, this.current);
    try {
      return await fn();
    } finally {
      this.current--;
    }
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A default key `Class:method[:v<version>]:arg…`, whatever its version segment (a fingerprint of the method
 * source unless `version` is given): `parts` is the rendered argument list, e.g. `'1'` or `'a:b'`.
 */
export function defaultKeyPattern(base: string, parts?: string): RegExp {
  const tail = parts === undefined ? '' : `:${escapeRegExp(parts)}`;
  return new RegExp(`^${escapeRegExp(base)}(?::v[^:]+)?${tail}$`);
}

/** Stored keys that are the default key of `base` with `parts`. */
export async function defaultKeysOf(cache: CacheService, base: string, parts?: string): Promise<string[]> {
  const pattern = defaultKeyPattern(base, parts);
  return (await keysOf(cache, `${base}*`)).filter((key) => pattern.test(key));
}

/** The one stored default key of `base` with `parts`; throws when there is none or several. */
export async function storedKey(cache: CacheService, base: string, parts?: string): Promise<string> {
  const keys = await defaultKeysOf(cache, base, parts);
  if (keys.length !== 1) throw new Error(`expected one stored key ${base} (${parts}), found ${JSON.stringify(keys)}`);
  return keys[0];
}

/** Whether the default key of `base` with `parts` is stored. */
export async function hasDefaultKey(cache: CacheService, base: string, parts?: string): Promise<boolean> {
  return (await defaultKeysOf(cache, base, parts)).length > 0;
}
