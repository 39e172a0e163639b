/**
 * Issue #9, item 12: on controllers, key placeholders read the handler's parameters under the property the
 * route is defined by, not the function's own name. A handler wrapped by another decorator (its function is
 * `traced`) or put on the controller from a mixin (its function is `lookupImpl`) must still key `{q}` by the
 * request's `q`, so one request's answer is never served to another. Express and Fastify, mem:// and Redis.
 */
import { Controller, Get, Module, Query } from '@nestjs/common';
import request from 'supertest';
import { Cache } from '../../lib/index.js';
import { allCases, clearPrefix, Counter, createTestApp, describeCases, keysUnder, type TestApp } from './harness.js';

const PREFIX = 'hn';
const calls = new Counter();

/** A typical tracing decorator: replaces the method with a wrapper of another name and copies its metadata. */
function Traced(): MethodDecorator {
  return (_target, _key, descriptor: PropertyDescriptor) => {
    const original = descriptor.value as (...args: unknown[]) => unknown;
    const traced = function traced(this: unknown, ...args: unknown[]) {
      return original.apply(this, args);
    };
    for (const key of Reflect.getMetadataKeys(original)) {
      Reflect.defineMetadata(key, Reflect.getMetadata(key, original), traced);
    }
    descriptor.value = traced;
  };
}

class LookupMixin {
  lookupImpl(q: string) {
    return { q, n: calls.hit('mixin') };
  }
}

@Controller('hn')
class NamesController {
  @Get('wrapped')
  @Traced()
  @Cache({ ttl: '1m', key: 'hn:wrapped:{q}' })
  wrapped(@Query('q') q: string) {
    return { q, n: calls.hit('wrapped') };
  }
}

// The mixin's method becomes the controller's `find` route, decorated the way TypeScript would.
const lookup = Object.getOwnPropertyDescriptor(LookupMixin.prototype, 'lookupImpl') as PropertyDescriptor;
Object.defineProperty(NamesController.prototype, 'find', lookup);
Query('q')(NamesController.prototype, 'find', 0);
Cache({ ttl: '1m', key: 'hn:find:{q}' })(NamesController.prototype, 'find', lookup);
Get('find')(NamesController.prototype, 'find', lookup);

@Module({ controllers: [NamesController] })
class NamesModule {}

describeCases('handler names vs property keys', allCases(), (c) => {
  let t: TestApp;

  beforeEach(async () => {
    calls.reset();
    await clearPrefix(c.url, PREFIX);
    t = await createTestApp(c, { imports: [NamesModule] });
  });

  afterEach(async () => {
    await t?.close();
    await clearPrefix(c.url, PREFIX);
  });

  const get = (path: string) =>
    request(t.server)
      .get(path)
      .expect(200)
      .then((res) => res.body as Record<string, unknown>);

  it.each([
    ['wrapped by another decorator', 'wrapped'],
    ['defined from a mixin', 'find'],
  ])('a handler %s keys {q} by the request', async (_how, route) => {
    const counter = route === 'wrapped' ? 'wrapped' : 'mixin';
    expect(await get(`/hn/${route}?q=alice`)).toEqual({ q: 'alice', n: 1 });
    expect(await get(`/hn/${route}?q=bob`)).toEqual({ q: 'bob', n: 2 });
    expect(await get(`/hn/${route}?q=alice`)).toEqual({ q: 'alice', n: 1 });
    expect(await get(`/hn/${route}?q=bob`)).toEqual({ q: 'bob', n: 2 });
    expect(calls.get(counter)).toBe(2);
    expect(await keysUnder(t.cache, PREFIX)).toEqual([`hn:${route}:alice`, `hn:${route}:bob`]);
  });
});
