/**
 * OpenTelemetry (issue #14, "Seeing why"): with `@opentelemetry/api` installed, every decorated call reports its
 * outcome on the caller's active span — an event per layer reached and `cashews.strategy`/`cashews.result`
 * attributes — on providers and controllers, mem:// and Redis db 8. A real SDK records the spans (in-memory exporter,
 * AsyncLocalStorage context manager). Keys never reach a span. Class names and keys start with "Otel".
 */
import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Controller, Get, Injectable, Param, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import request from 'supertest';
import { Cache, CashewsConfigError, CashewsModule, createCache, Failover, RateLimit } from '../../lib/index.js';
import { loadTraceApi } from '../../lib/telemetry/tracing.js';
import { cleanup, closeApps, describeBackends, startApp } from '../support/strategy-fixtures.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();
const tracer = provider.getTracer('cashews-test');

/** Runs `fn` in a span of its own, ended after it, and answers the span as exported. */
async function inSpan(name: string, fn: () => Promise<unknown>): Promise<ReadableSpan> {
  await tracer.startActiveSpan(name, async (span) => {
    try {
      await fn();
    } catch {
      // The outcome is read from the span.
    } finally {
      span.end();
    }
  });
  const found = exporter.getFinishedSpans().find((span) => span.name === name);
  if (!found) throw new Error(`span ${name} was not exported`);
  return found;
}

const events = (span: ReadableSpan) => span.events.map((event) => event.name);

@Injectable()
class OtelCatalogue {
  runs = 0;
  down = false;

  @Cache({ ttl: '1m', key: 'Otel:item:{id}' })
  async item(id: number) {
    this.runs++;
    return { id };
  }

  @Failover({ ttl: '1m', key: 'Otel:price:{id}' })
  async price(id: number) {
    if (this.down) throw new Error('upstream down');
    return { id, cents: 100 };
  }

  @RateLimit({ limit: 1, period: '1m', key: 'Otel:quota' })
  async quota() {
    return 'ok';
  }

  @Cache({ ttl: '1m', key: 'Otel:secret:{token}' })
  async secret(token: string) {
    return token.length;
  }
}

@Controller('otel')
class OtelController {
  @Get(':id')
  @Cache({ ttl: '1m', key: 'Otel:http:{id}' })
  async get(@Param('id') id: string) {
    return { id };
  }
}

describe('OpenTelemetry tracing', () => {
  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    // Other suites of this Jest file must not trace (the API's globals outlive this suite).
    trace.disable();
    context.disable();
    await provider.shutdown();
  });

  describeBackends('OpenTelemetry on decorated calls', ({ url }) => {
    const opened: INestApplication[] = [];
    beforeEach(async () => {
      exporter.reset();
      await cleanup(url, 'Otel');
    });
    afterEach(async () => {
      await closeApps();
      while (opened.length) await opened.pop()!.close();
    });

    it('a miss, then a hit: an event each, with the strategy, the method and the instance', async () => {
      const { app } = await startApp(url, [OtelCatalogue]);
      const svc = app.get(OtelCatalogue);
      const miss = await inSpan('first', () => svc.item(1));
      const hit = await inSpan('second', () => svc.item(1));
      expect(svc.runs).toBe(1);
      expect(events(miss)).toEqual(['cashews.miss']);
      expect(miss.attributes).toMatchObject({ 'cashews.strategy': 'cache', 'cashews.result': 'miss' });
      expect(events(hit)).toEqual(['cashews.hit']);
      expect(hit.attributes).toMatchObject({ 'cashews.strategy': 'cache', 'cashews.result': 'hit' });
      expect(hit.events[0].attributes).toEqual({
        'cashews.strategy': 'cache',
        'cashews.method': 'OtelCatalogue:item',
        'cashews.cache': 'default',
      });
    });

    it('a failover value standing in for an error is reported stale', async () => {
      const { app } = await startApp(url, [OtelCatalogue]);
      const svc = app.get(OtelCatalogue);
      await svc.price(1);
      svc.down = true;
      const span = await inSpan('stale', () => svc.price(1));
      expect(events(span)).toContain('cashews.stale');
      expect(span.attributes['cashews.result']).toBe('stale');
    });

    it('a call refused by a rate limit is reported rejected', async () => {
      const { app } = await startApp(url, [OtelCatalogue]);
      const svc = app.get(OtelCatalogue);
      const allowed = await inSpan('allowed', () => svc.quota());
      const refused = await inSpan('refused', () => svc.quota());
      expect(events(allowed)).toEqual(['cashews.run']);
      expect(events(refused)).toEqual(['cashews.rejected']);
      expect(refused.attributes).toMatchObject({ 'cashews.strategy': 'rate-limit', 'cashews.result': 'rejected' });
    });

    it('never attaches the key: an argument in the key template appears in no attribute', async () => {
      const { app } = await startApp(url, [OtelCatalogue]);
      const svc = app.get(OtelCatalogue);
      const span = await inSpan('secret', () => svc.secret('tok-4f9a-private'));
      const everything = JSON.stringify([span.attributes, span.events.map((event) => event.attributes)]);
      expect(events(span)).toEqual(['cashews.miss']);
      expect(everything).not.toContain('tok-4f9a-private');
    });

    it('a call outside any span is served as usual and records nothing', async () => {
      const { app } = await startApp(url, [OtelCatalogue]);
      const svc = app.get(OtelCatalogue);
      await expect(svc.item(2)).resolves.toEqual({ id: 2 });
      await expect(svc.item(2)).resolves.toEqual({ id: 2 });
      expect(exporter.getFinishedSpans()).toHaveLength(0);
    });

    it("a controller's cached route reports on the request's span", async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [CashewsModule.forRoot(url)],
        controllers: [OtelController],
      }).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      // What an HTTP instrumentation does: the request's handling runs with its span active.
      app.use((req: { url: string }, res: { on(event: string, fn: () => void): void }, next: () => void) => {
        tracer.startActiveSpan(`GET ${req.url}`, (span) => {
          res.on('finish', () => span.end());
          next();
        });
      });
      await app.init();
      opened.push(app);
      await request(app.getHttpServer()).get('/otel/7').expect(200, { id: '7' });
      await request(app.getHttpServer()).get('/otel/7').expect(200, { id: '7' });
      const spans = exporter.getFinishedSpans().filter((span) => span.name === 'GET /otel/7');
      expect(spans.map(events)).toEqual([['cashews.miss'], ['cashews.hit']]);
    });

    it('tracing=off: nothing is reported even with a span active', async () => {
      const cache = await createCache(url === 'mem://' ? 'mem://?tracing=off' : `${url}?tracing=off`);
      try {
        const span = await inSpan('off', async () => {
          await cache.set('Otel:off', 1, { ttl: '1m' });
          await cache.get('Otel:off');
        });
        expect(span.events).toHaveLength(0);
      } finally {
        await cache.close();
      }
    });
  });

  describe('before an SDK starts', () => {
    it('asks nothing of the API while no context manager is registered, and traces once one is', async () => {
      // As in an application that has @opentelemetry/api (a dependency of a dependency) and starts no SDK, or
      // starts it after Nest bootstrapped.
      context.disable();
      let registered = false;
      const moduleRef = await Test.createTestingModule({
        imports: [CashewsModule.forRoot('mem://')],
        providers: [OtelCatalogue],
      }).compile();
      const app = await moduleRef.init();
      const asked = jest.spyOn(trace, 'getActiveSpan');
      try {
        const svc = app.get(OtelCatalogue);
        await expect(svc.item(7)).resolves.toEqual({ id: 7 });
        await expect(svc.item(7)).resolves.toEqual({ id: 7 });
        expect(asked).not.toHaveBeenCalled();

        registered = context.setGlobalContextManager(contextManager.enable());
        expect(registered).toBe(true);
        exporter.reset();
        const hit = await inSpan('registered-later', () => svc.item(7));
        expect(events(hit)).toEqual(['cashews.hit']);
        expect(asked).toHaveBeenCalled();
      } finally {
        asked.mockRestore();
        // The suites after this one run with the context manager beforeAll registered.
        if (!registered) context.setGlobalContextManager(contextManager.enable());
        await app.close();
      }
    });
  });

  describe('a global object that takes no new property', () => {
    it('createCache with tracing=auto still serves: the API is asked instead of watched', async () => {
      // A realm of its own (test/fixtures/sealed-global.ts under tsx): preventExtensions cannot be undone here.
      const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
        (resolve) => {
          const child = execFile(
            process.execPath,
            ['--import', 'tsx', join(process.cwd(), 'test', 'fixtures', 'sealed-global.ts')],
            { cwd: process.cwd(), env: { ...process.env, NODE_OPTIONS: '' }, timeout: 30_000, killSignal: 'SIGKILL' },
            (_error, out, err) => resolve({ code: child.exitCode, stdout: out, stderr: err }),
          );
        },
      );
      expect({ code, stderr: code === 0 ? '' : stderr.slice(0, 2000) }).toEqual({ code: 0, stderr: '' });
      const line = stdout.split('\n').find((l) => l.startsWith('@@RESULT '));
      expect(JSON.parse(line!.slice('@@RESULT '.length))).toEqual({ value: 'kept' });
    }, 40_000);
  });

  describe('the tracing option', () => {
    const missing = () => Promise.reject(new Error("Cannot find package '@opentelemetry/api'"));

    it('auto: an application without @opentelemetry/api runs untraced', async () => {
      await expect(loadTraceApi('auto', missing)).resolves.toBeUndefined();
    });

    it('on: a missing @opentelemetry/api fails at bootstrap, naming the option and the package', async () => {
      await expect(loadTraceApi('on', missing)).rejects.toThrow(CashewsConfigError);
      await expect(loadTraceApi('on', missing)).rejects.toThrow(/tracing=on needs .*@opentelemetry\/api/);
    });

    it("forRoot takes it as an option: tracing 'off' reports nothing under an active span", async () => {
      exporter.reset();
      const moduleRef = await Test.createTestingModule({
        imports: [CashewsModule.forRoot('mem://', { tracing: 'off' })],
        providers: [OtelCatalogue],
      }).compile();
      const app = await moduleRef.init();
      try {
        const span = await inSpan('module-off', () => app.get(OtelCatalogue).item(3));
        expect(span.events).toHaveLength(0);
      } finally {
        await app.close();
      }
    });

    it('a bad value is refused with the accepted forms', async () => {
      await expect(createCache('mem://?tracing=maybe')).rejects.toThrow(/tracing.*auto.*on.*off/);
    });
  });
});
