/**
 * Issue #9, item 12: on controllers, key placeholders read the handler's parameters under the property the
 * route is defined by, not the function's own name. A handler wrapped by another decorator (its function is
 * `traced`) or put on the controller from a mixin (its function is `lookupImpl`) must still key `{q}` by the
 * request's `q`, so one request's answer is never served to another. Express and Fastify, mem:// and Redis.
 */
import {
  Controller,
  Get,
  Module,
  Param,
  Query,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import request from 'supertest';
import { Cache, RateLimit } from '../../lib/index.js';
import { protectionKeysOf } from '../support/strategy-fixtures.js';
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

/** An interceptor of the application's own: a handler that has one stays on the library's interceptor. */
class HnPassThrough implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler) {
    return next.handle();
  }
}

/** A CRUD base controller whose decorated handlers two controllers inherit. */
abstract class HnCrudController {
  abstract readonly entity: string;

  @Get(':id')
  @Cache({ ttl: '1m', prefix: 'hn' })
  one(@Param('id') id: string) {
    return { entity: this.entity, id, n: calls.hit(`${this.entity}.one`) };
  }

  @Get(':id/intercepted')
  @UseInterceptors(HnPassThrough)
  @Cache({ ttl: '1m', prefix: 'hn' })
  intercepted(@Param('id') id: string) {
    return { entity: this.entity, id, n: calls.hit(`${this.entity}.intercepted`) };
  }

  @Get()
  @RateLimit({ limit: 1, period: '1m', prefix: 'hn' })
  list() {
    return { entity: this.entity };
  }
}

@Controller('hn-users')
class HnUsersController extends HnCrudController {
  readonly entity = 'user';
}

@Controller('hn-orders')
class HnOrdersController extends HnCrudController {
  readonly entity = 'order';
}

describeCases(
  'handlers inherited from a base controller',
  allCases().filter((c) => c.backend === 'mem'),
  (c) => {
    let t: TestApp;

    beforeEach(async () => {
      calls.reset();
      t = await createTestApp(c, { controllers: [HnUsersController, HnOrdersController] });
    });

    afterEach(() => t?.close());

    it.each([
      ['a direct route', ''],
      ['a route on the interceptor', '/intercepted'],
    ])('default keys name the controller class (%s)', async (_how, tail) => {
      const handler = tail === '' ? 'one' : 'intercepted';
      const first = await request(t.server).get(`/hn-users/1${tail}`).expect(200);
      expect(first.body).toEqual({ entity: 'user', id: '1', n: 1 });
      const hit = await request(t.server).get(`/hn-users/1${tail}`).expect(200);
      expect(hit.body).toEqual({ entity: 'user', id: '1', n: 1 });
      expect((await request(t.server).get(`/hn-orders/1${tail}`).expect(200)).body).toEqual({
        entity: 'order',
        id: '1',
        n: 1,
      });
      const keys = await keysUnder(t.cache, PREFIX);
      expect(keys).toEqual([
        expect.stringMatching(new RegExp(`^hn:HnOrdersController:${handler}:v[0-9a-f]+:GET:/hn-orders/1`)),
        expect.stringMatching(new RegExp(`^hn:HnUsersController:${handler}:v[0-9a-f]+:GET:/hn-users/1`)),
      ]);
      expect(keys.join(' ')).not.toContain('HnCrudController');
    });

    it("a rate limit's per-client default key names the controller: each has its own bucket", async () => {
      await request(t.server).get('/hn-users').expect(200);
      await request(t.server).get('/hn-orders').expect(200);
      await request(t.server).get('/hn-users').expect(429);
      const buckets = (await protectionKeysOf(t.cache, 'hn:*')).join(' ');
      expect(buckets).toContain('hn:HnUsersController:list:');
      expect(buckets).toContain('hn:HnOrdersController:list:');
    });
  },
);
