/**
 * Key templates on controller handlers, over Express and Fastify, on mem:// and Redis (db 10, keys under
 * `hk:`): placeholders naming handler parameters bound by @Param/@Query/@Headers, the @Param data when the
 * variable is named otherwise, {req.params.x}, {req.user.x} set by a guard or a middleware, values read
 * before pipes, and escaping of user-controlled values.
 */
import {
  Controller,
  Get,
  Headers,
  Injectable,
  Module,
  Param,
  ParseIntPipe,
  Query,
  UnauthorizedException,
  UseGuards,
  UseInterceptors,
  createParamDecorator,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type MiddlewareConsumer,
  type NestMiddleware,
  type NestInterceptor,
  type NestModule,
} from '@nestjs/common';
import request from 'supertest';
import { Cache } from '../../lib/index.js';
import { functionFingerprint } from '../../lib/keys/fingerprint.js';
import { originalMethod } from '../../lib/decorators/method-guard.js';
import { allCases, clearPrefix, Counter, createTestApp, describeCases, keysUnder, type TestApp } from './harness.js';

const PREFIX = 'hk';
const calls = new Counter();

type UserRequest = { headers: Record<string, string | undefined>; user?: { id: string } };

/** Authenticates from `x-user` and sets `req.user`, as Passport guards do. */
@Injectable()
class UserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<UserRequest>();
    const id = req.headers['x-user'];
    if (id) req.user = { id };
    return true;
  }
}

/** Same, as a middleware. */
@Injectable()
class UserMiddleware implements NestMiddleware {
  use(req: UserRequest, _res: unknown, next: () => void): void {
    const id = req.headers['x-user'];
    if (id) req.user = { id };
    next();
  }
}

/** Calls of {@link CurrentUser}'s factory, by the key and by Nest together. */
let factoryCalls = 0;

/**
 * The usual auth set-up: a guard puts the user on the request, `@CurrentUser()` hands it (or one field) to the
 * handler; without a user it refuses the request, as such decorators do.
 */
const CurrentUser = createParamDecorator((field: 'id' | undefined, context: ExecutionContext) => {
  factoryCalls++;
  const user = context.switchToHttp().getRequest<UserRequest>().user;
  if (!user) throw new UnauthorizedException();
  return field ? user[field] : user;
});

/** An interceptor of the handler's own: keeps a route on the library's interceptor (no direct route). */
@Injectable()
class PassThrough implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler) {
    return next.handle();
  }
}

@Controller('k')
class KeyController {
  @Get('user-fn')
  @UseGuards(UserGuard)
  @Cache({ ttl: '1m', prefix: PREFIX, key: ([user]: readonly [{ id: string } | undefined]) => `user-fn:${user?.id}` })
  userByFunction(@CurrentUser() user: { id: string }) {
    return { id: user.id, n: calls.hit('user-fn') };
  }

  @Get('user-tpl')
  @UseGuards(UserGuard)
  @Cache({ ttl: '1m', prefix: PREFIX, key: 'user-tpl:{user.id}' })
  userByTemplate(@CurrentUser() user: { id: string }) {
    return { id: user.id, n: calls.hit('user-tpl') };
  }

  @Get('user-data')
  @UseGuards(UserGuard)
  @Cache({ ttl: '1m', prefix: PREFIX, key: 'user-data:{userId}' })
  userByData(@CurrentUser('id') userId: string) {
    return { id: userId, n: calls.hit('user-data') };
  }

  @Get('user-icpt')
  @UseGuards(UserGuard)
  @UseInterceptors(PassThrough)
  @Cache({ ttl: '1m', prefix: PREFIX, key: ([user]: readonly [{ id: string } | undefined]) => `user-icpt:${user?.id}` })
  userOnInterceptor(@CurrentUser() user: { id: string }) {
    return { id: user.id, n: calls.hit('user-icpt') };
  }

  @Get('param/:id')
  @Cache({ ttl: '1m', prefix: PREFIX, key: 'item:{id}' })
  byParam(@Param('id') id: string) {
    return { id, n: calls.hit('param') };
  }

  @Get('search')
  @Cache({ ttl: '1m', prefix: PREFIX, key: 'search:{q}' })
  byQuery(@Query('q') q: string) {
    return { q, n: calls.hit('query') };
  }

  @Get('product/:id')
  @Cache({ ttl: '1m', prefix: PREFIX, key: 'product:{id}' })
  byParamData(@Param('id') productId: string) {
    return { productId, n: calls.hit('product') };
  }

  @Get('tenant')
  @Cache({ ttl: '1m', prefix: PREFIX, key: 'tenant:{tenant}' })
  byHeader(@Headers('x-tenant') tenant: string) {
    return { tenant, n: calls.hit('tenant') };
  }

  @Get('tenant-data')
  @Cache({ ttl: '1m', prefix: PREFIX, key: 'tenant-data:{t}' })
  byHeaderData(@Headers('x-tenant') t: string) {
    return { t, n: calls.hit('tenant-data') };
  }

  @Get('req/:id')
  @Cache({ ttl: '1m', prefix: PREFIX, key: 'req:{req.params.id}' })
  byRequest() {
    return { n: calls.hit('req') };
  }

  @Get('ip')
  @Cache({ ttl: '1m', prefix: PREFIX, key: 'ip:{req.ip}:{req.method}' })
  byClient() {
    return { n: calls.hit('ip') };
  }

  @Get('me')
  @UseGuards(UserGuard)
  @Cache({ ttl: '1m', prefix: PREFIX, key: 'me:{req.user.id}' })
  me() {
    return { n: calls.hit('me') };
  }

  @Get('me-mw')
  @Cache({ ttl: '1m', prefix: PREFIX, key: 'me-mw:{req.user.id}' })
  meMiddleware() {
    return { n: calls.hit('me-mw') };
  }

  @Get('num/:id')
  @Cache({ ttl: '1m', prefix: PREFIX, key: 'num:{id}' })
  byNumber(@Param('id', ParseIntPipe) id: number) {
    return { id, type: typeof id, n: calls.hit('num') };
  }

  @Get('pair/:a/:b')
  @Cache({ ttl: '1m', prefix: PREFIX, key: 'pair:{a}:{b}' })
  pair(@Param('a') a: string, @Param('b') b: string) {
    return { a, b, n: calls.hit('pair') };
  }

  @Get('default/:id')
  @Cache({ ttl: '1m', prefix: PREFIX })
  byDefault(@Param('id') id: string) {
    return { id, n: calls.hit('default') };
  }
}

@Module({ controllers: [KeyController], providers: [UserGuard, PassThrough] })
class KeyModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(UserMiddleware).forRoutes('k/me-mw');
  }
}

describeCases('controller key templates', allCases(), (c) => {
  let t: TestApp;

  beforeEach(async () => {
    calls.reset();
    await clearPrefix(c.url, PREFIX);
    t = await createTestApp(c, { imports: [KeyModule] });
  });

  afterEach(async () => {
    await t?.close();
    await clearPrefix(c.url, PREFIX);
  });

  const get = (path: string, headers: Record<string, string> = {}) => {
    const req = request(t.server).get(path);
    for (const [name, value] of Object.entries(headers)) req.set(name, value);
    return req.expect(200).then((res) => res.body as Record<string, unknown>);
  };

  it("'{id}' names the handler parameter bound by @Param('id')", async () => {
    expect(await get('/k/param/1')).toEqual({ id: '1', n: 1 });
    expect(await get('/k/param/1')).toEqual({ id: '1', n: 1 });
    expect(await get('/k/param/2')).toEqual({ id: '2', n: 2 });
    expect(calls.get('param')).toBe(2);
    expect(await keysUnder(t.cache, PREFIX)).toEqual(["hk:item:'1'", "hk:item:'2'"]);
  });

  it("'{q}' names the parameter bound by @Query('q'); other query parameters are not in the key", async () => {
    expect(await get('/k/search?q=nuts&page=1')).toEqual({ q: 'nuts', n: 1 });
    expect(await get('/k/search?page=2&q=nuts')).toEqual({ q: 'nuts', n: 1 });
    expect(await get('/k/search?q=bolts')).toEqual({ q: 'bolts', n: 2 });
    expect(calls.get('query')).toBe(2);
    expect(await keysUnder(t.cache, PREFIX)).toEqual(['hk:search:bolts', 'hk:search:nuts']);
  });

  it("'{id}' also names @Param('id') when the variable is called productId", async () => {
    expect(await get('/k/product/7')).toEqual({ productId: '7', n: 1 });
    expect(await get('/k/product/7')).toEqual({ productId: '7', n: 1 });
    expect(await get('/k/product/8')).toEqual({ productId: '8', n: 2 });
    expect(await keysUnder(t.cache, PREFIX)).toEqual(["hk:product:'7'", "hk:product:'8'"]);
  });

  it("a placeholder naming the parameter bound by @Headers('x-tenant')", async () => {
    expect(await get('/k/tenant', { 'x-tenant': 'acme' })).toEqual({ tenant: 'acme', n: 1 });
    expect(await get('/k/tenant', { 'x-tenant': 'acme' })).toEqual({ tenant: 'acme', n: 1 });
    expect(await get('/k/tenant', { 'x-tenant': 'globex' })).toEqual({ tenant: 'globex', n: 2 });
    expect(calls.get('tenant')).toBe(2);
    expect(await keysUnder(t.cache, PREFIX)).toEqual(['hk:tenant:acme', 'hk:tenant:globex']);
    expect(await get('/k/tenant-data', { 'x-tenant': 'acme' })).toEqual({ t: 'acme', n: 1 });
    expect(await get('/k/tenant-data', { 'x-tenant': 'initech' })).toEqual({ t: 'initech', n: 2 });
  });

  it("'{req.params.id}' reads the request", async () => {
    expect(await get('/k/req/5')).toEqual({ n: 1 });
    expect(await get('/k/req/5')).toEqual({ n: 1 });
    expect(await get('/k/req/6')).toEqual({ n: 2 });
    expect(await keysUnder(t.cache, PREFIX)).toEqual(["hk:req:'5'", "hk:req:'6'"]);
  });

  it("'{req.ip}' reads a getter the request inherits (Express and Fastify), not undefined", async () => {
    expect(await get('/k/ip')).toEqual({ n: 1 });
    expect(await get('/k/ip')).toEqual({ n: 1 });
    const keys = await keysUnder(t.cache, PREFIX);
    expect(keys).toHaveLength(1);
    // Loopback as the adapter reports it (IPv4 or IPv4-mapped IPv6), escaped; never the undefined marker.
    expect(keys[0]).toMatch(/^hk:ip:(127\.0\.0\.1|%3A%3Affff%3A127\.0\.0\.1|%3A%3A1):GET$/);
  });

  it("'{req.user.id}' reads the user a guard put on the request: users never share an entry", async () => {
    expect(await get('/k/me', { 'x-user': 'alice' })).toEqual({ n: 1 });
    expect(await get('/k/me', { 'x-user': 'bob' })).toEqual({ n: 2 });
    expect(await get('/k/me', { 'x-user': 'alice' })).toEqual({ n: 1 });
    expect(calls.get('me')).toBe(2);
    expect(await keysUnder(t.cache, PREFIX)).toEqual(['hk:me:alice', 'hk:me:bob']);
  });

  it("'{req.user.id}' reads the user a middleware put on the request: users never share an entry", async () => {
    expect(await get('/k/me-mw', { 'x-user': 'alice' })).toEqual({ n: 1 });
    expect(await get('/k/me-mw', { 'x-user': 'bob' })).toEqual({ n: 2 });
    expect(await get('/k/me-mw', { 'x-user': 'alice' })).toEqual({ n: 1 });
    expect(calls.get('me-mw')).toBe(2);
    expect(await keysUnder(t.cache, PREFIX)).toEqual(['hk:me-mw:alice', 'hk:me-mw:bob']);
  });

  describe('parameters of a custom decorator (createParamDecorator)', () => {
    beforeEach(() => {
      factoryCalls = 0;
    });

    // The factory runs once for the key of each request, however many layers read it, and Nest calls it for the
    // handler: on a direct route for every request (before the key, as it runs pipes), on the interceptor on a miss.
    it.each([
      ['a key function', 'user-fn', 3 + 3],
      ['a template naming the parameter', 'user-tpl', 3 + 3],
      ["a template naming a parameter bound with the decorator's data", 'user-data', 3 + 3],
      ['a key function on the interceptor (not a direct route)', 'user-icpt', 3 + 2],
    ])('%s reads what the factory answers: users never share an entry', async (_how, route, factoryRuns) => {
      expect(await get(`/k/${route}`, { 'x-user': 'alice' })).toEqual({ id: 'alice', n: 1 });
      expect(await get(`/k/${route}`, { 'x-user': 'bob' })).toEqual({ id: 'bob', n: 2 });
      expect(await get(`/k/${route}`, { 'x-user': 'alice' })).toEqual({ id: 'alice', n: 1 });
      expect(calls.get(route)).toBe(2);
      expect(factoryCalls).toBe(factoryRuns);
      expect(await keysUnder(t.cache, PREFIX)).toEqual([`hk:${route}:alice`, `hk:${route}:bob`]);
    });

    it('a factory that throws leaves the call without a key: nothing is stored, Nest answers its error', async () => {
      // On the interceptor (a direct route never gets that far: Nest calls the factory first, and refuses).
      await request(t.server).get('/k/user-icpt').expect(401);
      await request(t.server).get('/k/user-icpt').expect(401);
      expect(factoryCalls).toBe(2 + 2);
      await request(t.server).get('/k/user-tpl').expect(401);
      expect(calls.get('user-icpt') + calls.get('user-tpl')).toBe(0);
      expect(await keysUnder(t.cache, PREFIX)).toEqual([]);
      expect(await get('/k/user-icpt', { 'x-user': 'carol' })).toEqual({ id: 'carol', n: 1 });
      expect(await get('/k/user-icpt', { 'x-user': 'carol' })).toEqual({ id: 'carol', n: 1 });
    });
  });

  it('takes values before pipes: ParseIntPipe still yields a working key, and invalid input is not cached', async () => {
    expect(await get('/k/num/5')).toEqual({ id: 5, type: 'number', n: 1 });
    expect(await get('/k/num/5')).toEqual({ id: 5, type: 'number', n: 1 });
    expect(await get('/k/num/6')).toEqual({ id: 6, type: 'number', n: 2 });
    await request(t.server).get('/k/num/abc').expect(400);
    await request(t.server).get('/k/num/abc').expect(400);
    expect(calls.get('num')).toBe(2);
    expect(await keysUnder(t.cache, PREFIX)).toEqual(["hk:num:'5'", "hk:num:'6'"]);
  });

  describe('escaping of user-controlled values', () => {
    it("'*' and ':' in a path parameter are escaped and never collide with other ids", async () => {
      const star = await get('/k/param/*');
      const x = await get('/k/param/x');
      const colon = await get('/k/param/a:b');
      // `a%3Ab` as a raw id must not land on the escaped form of `a:b`.
      const escapedLookalike = await get('/k/param/a%253Ab');
      const starLookalike = await get('/k/param/%252A');
      expect(star).toEqual({ id: '*', n: 1 });
      expect(x).toEqual({ id: 'x', n: 2 });
      expect(colon).toEqual({ id: 'a:b', n: 3 });
      expect(escapedLookalike).toEqual({ id: 'a%3Ab', n: 4 });
      expect(starLookalike).toEqual({ id: '%2A', n: 5 });
      // Hits still land on their own entries.
      expect(await get('/k/param/*')).toEqual({ id: '*', n: 1 });
      expect(await get('/k/param/a:b')).toEqual({ id: 'a:b', n: 3 });
      expect(calls.get('param')).toBe(5);

      const keys = await keysUnder(t.cache, PREFIX);
      expect(keys).toHaveLength(5);
      for (const key of keys) expect(key).not.toContain('*');
      expect(keys.filter((key) => key.split(':').length !== 3)).toEqual([]);
    });

    it("'{a}:{b}' cannot be forged: /pair/a:b/c and /pair/a/b:c are different entries", async () => {
      expect(await get('/k/pair/a:b/c')).toEqual({ a: 'a:b', b: 'c', n: 1 });
      expect(await get('/k/pair/a/b:c')).toEqual({ a: 'a', b: 'b:c', n: 2 });
      expect(await get('/k/pair/a:b/c')).toEqual({ a: 'a:b', b: 'c', n: 1 });
      expect(calls.get('pair')).toBe(2);
      const keys = await keysUnder(t.cache, PREFIX);
      expect(new Set(keys).size).toBe(2);
      for (const key of keys) expect(key.split(':')).toHaveLength(4); // hk:pair:<a>:<b>
    });

    it("default keys escape the path and query: '*' never reaches a stored key", async () => {
      expect(await get('/k/default/*?f=*')).toEqual({ id: '*', n: 1 });
      expect(await get('/k/default/x?f=y')).toEqual({ id: 'x', n: 2 });
      expect(await get('/k/default/*?f=*')).toEqual({ id: '*', n: 1 });
      expect(calls.get('default')).toBe(2);
      const keys = await keysUnder(t.cache, PREFIX);
      expect(keys).toHaveLength(2);
      for (const key of keys) expect(key).not.toContain('*');
      // Deleting by a pattern built from a hostile id cannot widen to other entries.
      // Default keys carry the version segment: a fingerprint of the handler's source.
      const version = `v${functionFingerprint(originalMethod(KeyController.prototype.byDefault))}`;
      expect(await t.cache.deleteMatch(`${PREFIX}:KeyController:byDefault:${version}:GET:/k/default/x*`)).toBe(1);
      expect(await keysUnder(t.cache, PREFIX)).toHaveLength(1);
    });
  });
});
