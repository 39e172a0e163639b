/**
 * Direct routes (lib/routes/direct-routes.ts): a decorated handler that nothing else intercepts runs its layers in
 * its own function, with no interceptor, on Express and Fastify over mem:// and Redis. What is sent is what the
 * interceptor sent; guards still run first; pipes now run on hits too; a handler whose behaviour a direct route could
 * not keep (another interceptor of its own, an ETag) stays on the interceptor.
 */
import {
  Controller,
  Get,
  Header,
  Param,
  ParseIntPipe,
  UseGuards,
  UseInterceptors,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
  type PipeTransform,
} from '@nestjs/common';
import { map, of, tap, type Observable } from 'rxjs';
import request from 'supertest';
import { Cache, RateLimit } from '../../lib/index.js';
import { allCases, clearPrefix, countInterceptors, createTestApp, describeCases, type TestApp } from './harness.js';

const PREFIX = 'direct-routes';
const seen = { item: 0, pipes: 0, guards: 0, wrapped: 0, marking: 0, stream: 0, tagged: 0, wraps: 0, mixin: 0 };

/** Lets a request through with `x-allow: yes` only. */
class HeaderGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    seen.guards++;
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    return req.headers['x-allow'] === 'yes';
  }
}

/** Counts the values it is given. */
class CountingPipe implements PipeTransform {
  transform(value: unknown): unknown {
    seen.pipes++;
    return value;
  }
}

/** An interceptor of the handler's own: it runs inside the layers, so not on a hit. */
class MarkingInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(tap(() => seen.marking++));
  }
}

@Controller('dr')
class DirectController {
  @Get('item/:id')
  @Header('X-Route', 'item')
  @UseGuards(HeaderGuard)
  @Cache({ ttl: '1m', prefix: PREFIX })
  item(@Param('id', ParseIntPipe, CountingPipe) id: number): { id: number; run: number } {
    return { id, run: ++seen.item };
  }

  @Get('wrapped')
  @Cache({ ttl: '1m', prefix: PREFIX })
  @UseInterceptors(MarkingInterceptor)
  wrapped(): { run: number } {
    return { run: ++seen.wrapped };
  }

  @Get('stream')
  @Cache({ ttl: '1m', prefix: PREFIX })
  stream(): Observable<{ run: number }> {
    return of({ run: ++seen.stream });
  }

  @Get('tagged')
  @Cache({ ttl: '1m', prefix: PREFIX, etag: true })
  tagged(): { run: number } {
    return { run: ++seen.tagged };
  }

  @Get('limited')
  @RateLimit({ limit: 2, period: '1m', prefix: PREFIX })
  limited(): { ok: boolean } {
    return { ok: true };
  }

  @Get('quota/:id')
  @RateLimit({ limit: 1, period: '1m', prefix: PREFIX })
  quota(@Param('id', ParseIntPipe) id: number): { id: number } {
    return { id };
  }

  @Get('defaults/:id')
  @Cache({ ttl: '1m', prefix: PREFIX })
  defaults(@Param('id') id: string, options: { n: number | string } = { n: 1 }): { id: string; n: number | string } {
    return { id, n: typeof options === 'object' && options !== null && 'n' in options ? options.n : 'not-defaults' };
  }
}

/** Wraps every answer of its controller as `{ data }`: a class-level interceptor. */
class WrapInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    seen.wraps++;
    return next.handle().pipe(map((data: unknown) => ({ data })));
  }
}

@Controller('wr')
@UseInterceptors(WrapInterceptor)
class WrappedController {
  @Get()
  @Cache({ ttl: '1m', prefix: PREFIX })
  get(): { run: number } {
    return { run: ++seen.wrapped };
  }
}

/** A controller built with a mixin helper that copies `constructor` too (the TypeScript handbook's applyMixins). */
class MixinSource {
  @Get('find')
  @Cache({ ttl: '1m', prefix: PREFIX })
  find(): { run: number } {
    return { run: ++seen.mixin };
  }
}
class MixedController {}
for (const name of Object.getOwnPropertyNames(MixinSource.prototype)) {
  Object.defineProperty(
    MixedController.prototype,
    name,
    Object.getOwnPropertyDescriptor(MixinSource.prototype, name) as PropertyDescriptor,
  );
}
Controller('mix')(MixedController);

describeCases('direct routes', allCases(), (c) => {
  let t: TestApp;
  let spy: ReturnType<typeof countInterceptors>;
  const allowed = (path: string) => request(t.server).get(path).set('x-allow', 'yes');

  beforeEach(async () => {
    await clearPrefix(c.url, PREFIX);
    for (const name of Object.keys(seen) as Array<keyof typeof seen>) seen[name] = 0;
    spy = countInterceptors();
    t = await createTestApp(c, { controllers: [DirectController, MixedController] });
  });
  afterEach(async () => {
    spy.restore();
    await t.close();
    await clearPrefix(c.url, PREFIX);
  });

  it('a cached handler answers hits with no interceptor; guards, status headers and pipes still run', async () => {
    const first = await allowed('/dr/item/5').expect(200, { id: 5, run: 1 });
    expect(first.headers['x-route']).toBe('item');
    const hit = await allowed('/dr/item/5').expect(200, { id: 5, run: 1 });
    expect(hit.headers['x-route']).toBe('item');
    expect(seen.item).toBe(1);
    expect(spy.counts).toEqual({ headers: 0, strategies: 0 });
    // Pipes run before the handler is called, so on a hit too (an interceptor answered before them).
    expect(seen.pipes).toBe(2);
    await allowed('/dr/item/x').expect(400);
    // The guard runs before a cached answer, as it did before the interceptor.
    await request(t.server).get('/dr/item/5').expect(403);
    expect(seen.guards).toBe(4);
    // The key is the route's, as the interceptor made it.
    const keys: string[] = [];
    for await (const key of t.cache.scan(`${PREFIX}:*`)) keys.push(key);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(new RegExp(`^${PREFIX}:DirectController:item:(v[0-9a-f]+:)?GET:/dr/item/5$`));
  });

  it('the controller called directly (a unit test) runs the handler', () => {
    const controller = t.app.get(DirectController);
    expect(controller.item(9)).toEqual({ id: 9, run: 1 });
    expect(controller.item(9)).toEqual({ id: 9, run: 2 });
  });

  it("a handler with an interceptor of its own stays on the interceptor: the handler's interceptor runs inside", async () => {
    await request(t.server).get('/dr/wrapped').expect(200, { run: 1 });
    await request(t.server).get('/dr/wrapped').expect(200, { run: 1 });
    expect(seen).toMatchObject({ wrapped: 1, marking: 1 });
    expect(spy.counts.strategies).toBe(2);
  });

  it('an Observable handler is cached with its last value', async () => {
    await request(t.server).get('/dr/stream').expect(200, { run: 1 });
    await request(t.server).get('/dr/stream').expect(200, { run: 1 });
    expect(seen.stream).toBe(1);
  });

  it('an ETag handler stays on the interceptor: 304 for a matching If-None-Match', async () => {
    const first = await request(t.server).get('/dr/tagged').expect(200, { run: 1 });
    const etag = first.headers.etag as string;
    expect(etag).toBeDefined();
    await request(t.server).get('/dr/tagged').set('If-None-Match', etag).expect(304);
    expect(seen.tagged).toBe(1);
    expect(spy.counts.strategies).toBe(2);
  });

  it('a protective layer counts a request its pipes refuse, as before (it stays on the interceptor)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await request(t.server).get('/dr/quota/abc')).status);
    expect(statuses).toEqual([400, 429, 429]);
  });

  it('a controller built by a mixin is cached', async () => {
    await request(t.server).get('/mix/find').expect(200, { run: 1 });
    await request(t.server).get('/mix/find').expect(200, { run: 1 });
  });

  it('a rate limit: X-RateLimit-* headers, then 429 through the exception filter', async () => {
    const ok = await request(t.server).get('/dr/limited').expect(200, { ok: true });
    expect(ok.headers['x-ratelimit-limit']).toBe('2');
    expect(ok.headers['x-ratelimit-remaining']).toBe('1');
    await request(t.server).get('/dr/limited').expect(200);
    await request(t.server).get('/dr/limited').expect(429);
  });
});

describeCases('directRoutes: false', allCases(), (c) => {
  it('every decorated handler runs its layers in the interceptor: pipes do not run on a hit', async () => {
    await clearPrefix(c.url, PREFIX);
    for (const name of Object.keys(seen) as Array<keyof typeof seen>) seen[name] = 0;
    const spy = countInterceptors();
    const t = await createTestApp(c, { controllers: [DirectController], options: { directRoutes: false } });
    try {
      await request(t.server).get('/dr/item/6').set('x-allow', 'yes').expect(200, { id: 6, run: 1 });
      await request(t.server).get('/dr/item/6').set('x-allow', 'yes').expect(200, { id: 6, run: 1 });
      expect(spy.counts).toEqual({ headers: 2, strategies: 2 });
      expect(seen.pipes).toBe(1);
      expect(Object.prototype.hasOwnProperty.call(t.app.get(DirectController), 'item')).toBe(false);
    } finally {
      spy.restore();
      await t.close();
      await clearPrefix(c.url, PREFIX);
    }
  });
});

describeCases('direct routes with detection headers', allCases(), (c) => {
  for (const [label, options] of [
    ['the global interceptor describes them', { detectHeaders: true }],
    ['no global interceptor: the direct route describes them', { detectHeaders: true, globalInterceptors: false }],
  ] as const) {
    it(`X-From-Cache on a hit of a direct route (${label})`, async () => {
      await clearPrefix(c.url, PREFIX);
      seen.item = 0;
      const t = await createTestApp(c, { controllers: [DirectController], options });
      try {
        const first = await request(t.server).get('/dr/item/3').set('x-allow', 'yes').expect(200, { id: 3, run: 1 });
        expect(first.headers['x-from-cache']).toBeUndefined();
        const hit = await request(t.server).get('/dr/item/3').set('x-allow', 'yes').expect(200, { id: 3, run: 1 });
        expect(hit.headers['x-from-cache']).toMatch(
          new RegExp(`^${PREFIX}:DirectController:item:(v[0-9a-f]+:)?GET:/dr/item/3$`),
        );
        expect(Number(hit.headers['x-from-cache-expire-in-seconds'])).toBeGreaterThan(50);
      } finally {
        await t.close();
        await clearPrefix(c.url, PREFIX);
      }
    });
  }
});

describeCases('the global interceptor of the module', allCases(), (c) => {
  it('keeps every decorated handler on the interceptor: class-level interceptors stay inside the layers', async () => {
    await clearPrefix(c.url, PREFIX);
    seen.wrapped = 0;
    seen.wraps = 0;
    const t = await createTestApp(c, { controllers: [WrappedController], options: { globalInterceptors: true } });
    try {
      await request(t.server)
        .get('/wr')
        .expect(200, { data: { run: 1 } });
      await request(t.server)
        .get('/wr')
        .expect(200, { data: { run: 1 } });
      expect(seen).toMatchObject({ wrapped: 1, wraps: 1 });
    } finally {
      await t.close();
      await clearPrefix(c.url, PREFIX);
    }
  });
});

describe('direct routes and other applications of the same controller', () => {
  it('an application that keeps the handler on the interceptor passes its default parameters as written', async () => {
    const c = { adapter: 'express', backend: 'mem', url: 'mem://' } as const;
    const direct = await createTestApp(c, { controllers: [DirectController] });
    try {
      await request(direct.server).get('/dr/defaults/1').expect(200, { id: '1', n: 1 });
    } finally {
      await direct.close();
    }
    const kept = await createTestApp(c, { controllers: [DirectController], options: { directRoutes: false } });
    try {
      await request(kept.server).get('/dr/defaults/2').expect(200, { id: '2', n: 1 });
    } finally {
      await kept.close();
    }
  });

  it('a second application of the controller installs it again over the same route arguments', async () => {
    const c = { adapter: 'express', backend: 'mem', url: 'mem://' } as const;
    for (let app = 0; app < 2; app++) {
      seen.item = 0;
      const t = await createTestApp(c, { controllers: [DirectController] });
      try {
        await request(t.server).get('/dr/item/4').set('x-allow', 'yes').expect(200, { id: 4, run: 1 });
        await request(t.server).get('/dr/item/4').set('x-allow', 'yes').expect(200, { id: 4, run: 1 });
        expect(Object.prototype.hasOwnProperty.call(t.app.get(DirectController), 'item')).toBe(true);
      } finally {
        await t.close();
      }
    }
    const args = Reflect.getMetadata('__routeArguments__', DirectController, 'item') as Record<string, unknown>;
    expect(Object.keys(args).sort()).toEqual(['0:1', '1:2', '5:0']);
  });
});
