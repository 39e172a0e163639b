/**
 * Streamed results (issue #12): async generators, Observables and readable streams from providers, and server-sent
 * events, a plain Observable, a stream failing midway and one past maxBytes from a controller (a StreamableFile is in
 * test/http/cache-basics.e2e.ts); @Locked on every kind of stream. The first run reaches its
 * caller chunk by chunk while it is recorded; a hit replays the chunks without running the method; a run that fails,
 * is abandoned or grows past maxBytes stores nothing; locks are held until the stream has been read.
 * mem:// and Redis db 8; names start with "Sr".
 */
import { Readable } from 'node:stream';
import http from 'node:http';
import { Controller, Get, Injectable, Sse, StreamableFile, type MessageEvent } from '@nestjs/common';
import { Observable } from 'rxjs';
import request from 'supertest';
import {
  backgroundSettled,
  Cache,
  CacheDetect,
  Early,
  Failover,
  HitCache,
  Locked,
  LockedError,
  Soft,
  type CacheService,
} from '../../lib/index.js';
import { pollUntil } from '../support/redis.js';
import {
  cleanup,
  closeApps,
  describeBackends,
  Gate,
  rejection,
  sleep,
  startApp,
} from '../support/strategy-fixtures.js';

const TAG = 'Sr';

class SrUpstreamError extends Error {}

/** A source of chunks that can be held between two chunks, fail after some, and tells whether it was released. */
class Source {
  runs = 0;
  released = 0;
  failAfter?: number;
  readonly gate = new Gate();

  async *chunks(count = 3): AsyncGenerator<{ run: number; i: number }> {
    const run = ++this.runs;
    try {
      for (let i = 1; i <= count; i++) {
        if (this.failAfter !== undefined && i > this.failAfter) throw new SrUpstreamError(`failed after ${i - 1}`);
        yield { run, i };
        if (i === 1) await this.gate.wait();
      }
    } finally {
      this.released++;
    }
  }
}

@Injectable()
class SrStreams extends Source {
  @Cache({ ttl: '1m', key: 'SrGen:{id}' })
  async *generated(id: number): AsyncGenerator<{ run: number; i: number }> {
    void id;
    yield* this.chunks();
  }

  @Cache({ ttl: '1m', key: 'SrBig', maxBytes: 40 })
  async *big(): AsyncGenerator<string> {
    for await (const chunk of this.chunks(5)) yield `${chunk.run}:${chunk.i}:${'x'.repeat(10)}`;
  }

  @Cache({ ttl: '1m', key: 'SrObs' })
  ticks(): Observable<number> {
    return new Observable<number>((subscriber) => {
      const run = ++this.runs;
      subscriber.next(run * 10 + 1);
      const timer = setTimeout(() => {
        subscriber.next(run * 10 + 2);
        subscriber.complete();
      }, 5);
      return () => clearTimeout(timer);
    });
  }

  @Cache({ ttl: '1m', key: 'SrBytes' })
  async bytes(): Promise<Readable> {
    const run = ++this.runs;
    return Readable.from([Buffer.from(`r${run}-`), Buffer.from('tail')], { objectMode: false });
  }

  readonly opened: Readable[] = [];

  /** An idle source (a socket or a file being tailed): it has one chunk and waits for more. */
  @Cache({ ttl: '1m', key: 'SrIdle:{id}' })
  async idle(id: number): Promise<Readable> {
    void id;
    const source = new Readable({ read() {} });
    source.push(Buffer.from('first-'));
    this.opened.push(source);
    return source;
  }

  /** Chunks whose JSON text is tiny but whose content is not: maxBytes counts what is stored. */
  @Cache({ ttl: '1m', key: 'SrMaps', maxBytes: '1KB' })
  async *maps(): AsyncGenerator<Map<number, string>> {
    this.runs++;
    for (let i = 0; i < 5; i++) yield new Map([[i, 'x'.repeat(10_000)]]);
  }

  /** A byte stream read as text (`setEncoding`): its chunks are strings, and so are a replay's. */
  @Cache({ ttl: '1m', key: 'SrText' })
  async text(): Promise<Readable> {
    const run = ++this.runs;
    const source = Readable.from([Buffer.from(`t${run}-`), Buffer.from('é')], { objectMode: false });
    source.setEncoding('utf8');
    return source;
  }

  @Locked({ ttl: '5s', wait: false, key: 'SrLock' })
  async *locked(): AsyncGenerator<{ run: number; i: number }> {
    yield* this.chunks();
  }

  /** The source's chunks as bytes: held after the first while the gate is held. */
  private async *byteChunks(): AsyncGenerator<Buffer> {
    for await (const { run, i } of this.chunks()) yield Buffer.from(`${run}.${i};`);
  }

  @Locked({ ttl: '5s', wait: false, key: 'SrLockReadable' })
  async lockedReadable(): Promise<Readable> {
    return Readable.from(this.byteChunks(), { objectMode: false });
  }

  /** Waits for the lock: a second caller gets its stream only once the first stream was read to its end. */
  @Locked({ ttl: '5s', wait: true, step: '10ms', key: 'SrLockReadableWait' })
  async lockedReadableWait(): Promise<Readable> {
    return Readable.from(this.byteChunks(), { objectMode: false });
  }

  @Locked({ ttl: '5s', wait: false, key: 'SrLockObservable' })
  lockedObservable(): Observable<number> {
    return new Observable<number>((subscriber) => {
      const run = ++this.runs;
      subscriber.next(run * 10 + 1);
      void Promise.resolve(this.gate.wait()).then(() => {
        subscriber.next(run * 10 + 2);
        subscriber.complete();
      });
    });
  }

  @Locked({ ttl: '5s', wait: false, key: 'SrLockFile' })
  async lockedFile(): Promise<StreamableFile> {
    return new StreamableFile(Readable.from(this.byteChunks(), { objectMode: false }), { type: 'text/plain' });
  }

  @Cache({ ttl: '1m', lock: true, key: 'SrStamp' })
  async *stamped(): AsyncGenerator<{ run: number; i: number }> {
    yield* this.chunks();
  }

  @Soft({ ttl: '1m', softTtl: '30s', key: 'SrSoft' })
  async *soft(): AsyncGenerator<{ run: number; i: number }> {
    yield* this.chunks();
  }

  @Early({ ttl: '1m', earlyTtl: '30s', key: 'SrEarly' })
  async *early(): AsyncGenerator<{ run: number; i: number }> {
    yield* this.chunks();
  }

  @HitCache({ ttl: '1m', cacheHits: 10, key: 'SrHit' })
  async *hit(): AsyncGenerator<{ run: number; i: number }> {
    yield* this.chunks();
  }

  down = false;

  /** Fails before it returns its stream when `down` (a stream that fails while read reaches its reader as the error). */
  @Failover({ ttl: '1m', key: 'SrFailover' })
  async failover(): Promise<AsyncIterable<{ run: number; i: number }>> {
    if (this.down) throw new SrUpstreamError('down');
    return this.chunks();
  }
}

@Controller('sr')
class SrEvents {
  runs = 0;
  rowRuns = 0;

  /** Nest 12 streams an async iterable a handler returns, and releases the handler's own once the response is over. */
  @Get('rows')
  @Cache({ ttl: '1m', key: 'SrRows' })
  async *rows(): AsyncGenerator<string> {
    this.rowRuns++;
    for (let i = 0; i < 10; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      yield `row${i}\n`;
    }
  }

  obsRuns = 0;

  /** A plain Observable from a handler (no @Sse): Nest sends its last value, and that is what is cached. */
  @Get('obs')
  @Cache({ ttl: '1m', key: 'SrHttpObs' })
  obs(): Observable<{ run: number; last: boolean }> {
    return new Observable((subscriber) => {
      const run = ++this.obsRuns;
      subscriber.next({ run, last: false });
      setTimeout(() => {
        subscriber.next({ run, last: true });
        subscriber.complete();
      }, 5);
    });
  }

  failingRuns = 0;
  failAfter?: number;

  /** Streamed by Nest 12; fails after `failAfter` rows when set. */
  @Get('failing')
  @Cache({ ttl: '1m', key: 'SrHttpFailing' })
  async *failing(): AsyncGenerator<string> {
    this.failingRuns++;
    for (let i = 0; i < 4; i++) {
      if (this.failAfter !== undefined && i >= this.failAfter) throw new SrUpstreamError(`failed after ${i}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      yield `row${i}\n`;
    }
  }

  bigRuns = 0;

  /** 5 rows of 20 bytes against maxBytes 40: every row reaches the client, nothing is stored. */
  @Get('big')
  @Cache({ ttl: '1m', key: 'SrHttpBig', maxBytes: 40 })
  async *big(): AsyncGenerator<string> {
    const run = ++this.bigRuns;
    for (let i = 0; i < 5; i++) yield `${run}:${i}:${'x'.repeat(15)}\n`;
  }

  @Sse('events')
  @Cache({ ttl: '1m', key: 'SrSse' })
  events(): Observable<MessageEvent> {
    return new Observable<MessageEvent>((subscriber) => {
      const run = ++this.runs;
      subscriber.next({ data: `run ${run} first` });
      setTimeout(() => {
        subscriber.next({ data: `run ${run} second` });
        subscriber.complete();
      }, 5);
    });
  }
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const chunk of iterable) out.push(chunk);
  return out;
}

function collectObservable<T>(observable: Observable<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const out: T[] = [];
    observable.subscribe({ next: (value) => out.push(value), error: reject, complete: () => resolve(out) });
  });
}

async function readAll(stream: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(parts).toString();
}

const RUN_1 = [
  { run: 1, i: 1 },
  { run: 1, i: 2 },
  { run: 1, i: 3 },
];

describeBackends('streamed results', ({ url }) => {
  let cache: CacheService;
  let svc: SrStreams;
  let app: Awaited<ReturnType<typeof startApp>>['app'];

  beforeEach(async () => {
    await cleanup(url, TAG);
    ({ app, cache } = await startApp(url, [SrStreams], { controllers: [SrEvents] }));
    svc = app.get(SrStreams);
  });
  afterEach(async () => {
    svc.gate.release();
    await backgroundSettled();
    await closeApps();
  });

  const stored = (key: string) => pollUntil(async () => cache.exists(key), 2_000, 5);

  it('an async generator: the first run reaches its caller chunk by chunk, a hit replays it without running', async () => {
    svc.gate.hold();
    const iterator = svc.generated(1)[Symbol.asyncIterator]();
    // The first chunk arrives while the method is still held before its second: it was passed through, not buffered.
    await expect(iterator.next()).resolves.toEqual({ done: false, value: { run: 1, i: 1 } });
    expect(await cache.exists('SrGen:1')).toBe(false);
    svc.gate.release();
    const rest = await collect({ [Symbol.asyncIterator]: () => iterator });
    expect(rest).toEqual(RUN_1.slice(1));
    expect(await stored('SrGen:1')).toBe(true);

    const { result, hits } = await CacheDetect.run(() => collect(svc.generated(1)));
    expect(result).toEqual(RUN_1);
    expect(hits).toEqual([expect.objectContaining({ key: 'SrGen:1', strategy: 'cache' })]);
    expect(svc.runs).toBe(1);
    // Each hit is its own replay.
    expect(await collect(svc.generated(1))).toEqual(RUN_1);
  });

  it('a run that fails midway reaches its caller as the error and stores nothing', async () => {
    svc.failAfter = 1;
    const seen: unknown[] = [];
    const error = await rejection(
      (async () => {
        for await (const chunk of svc.generated(2)) seen.push(chunk);
      })(),
    );
    expect(error).toBeInstanceOf(SrUpstreamError);
    expect(seen).toEqual([{ run: 1, i: 1 }]);
    svc.failAfter = undefined;
    expect(await collect(svc.generated(2))).toEqual(RUN_1.map((chunk) => ({ ...chunk, run: 2 })));
    expect(svc.runs).toBe(2);
  });

  it('a caller that stops reading early releases the source and stores nothing', async () => {
    for await (const chunk of svc.generated(3)) {
      expect(chunk).toEqual({ run: 1, i: 1 });
      break;
    }
    expect(await pollUntil(async () => svc.released === 1, 1_000, 5)).toBe(true);
    await backgroundSettled();
    expect(await cache.exists('SrGen:3')).toBe(false);
    expect(await collect(svc.generated(3))).toHaveLength(3);
    expect(svc.runs).toBe(2);
  });

  it('past maxBytes every chunk still reaches the caller, and nothing is stored', async () => {
    const first = await collect(svc.big());
    expect(first).toHaveLength(5);
    await backgroundSettled();
    expect(await cache.exists('SrBig')).toBe(false);
    const second = await collect(svc.big());
    expect(second).toEqual(first.map((chunk) => chunk.replace(/^1:/, '2:')));
    expect(svc.runs).toBe(2);
  });

  it('concurrent callers share one run, and each reads it whole', async () => {
    svc.gate.hold();
    const both = Promise.all([collect(svc.generated(4)), collect(svc.generated(4))]);
    await pollUntil(async () => svc.runs === 1, 1_000, 1);
    svc.gate.release();
    expect(await both).toEqual([RUN_1, RUN_1]);
    expect(svc.runs).toBe(1);
  });

  it('an Observable (declared Observable<T>): recorded as it emits, replayed on a hit', async () => {
    const first = svc.ticks();
    expect(first).toBeInstanceOf(Observable);
    expect(await collectObservable(first)).toEqual([11, 12]);
    expect(await stored('SrObs')).toBe(true);
    expect(await collectObservable(svc.ticks())).toEqual([11, 12]);
    expect(svc.runs).toBe(1);
  });

  it('a readable byte stream: replayed as bytes, in byte mode', async () => {
    const first = await svc.bytes();
    expect(await readAll(first)).toBe('r1-tail');
    expect(await stored('SrBytes')).toBe(true);
    const second = await svc.bytes();
    expect(second).toBeInstanceOf(Readable);
    expect(second.readableObjectMode).toBe(false);
    expect(await readAll(second)).toBe('r1-tail');
    expect(svc.runs).toBe(1);
  });

  it('a byte stream read as text replays as text', async () => {
    const chunks = async (stream: Readable) => {
      const out: unknown[] = [];
      for await (const chunk of stream) out.push(chunk);
      return out;
    };
    const first = await chunks(await svc.text());
    expect(first.every((chunk) => typeof chunk === 'string') && first.join('')).toBe('t1-é');
    expect(await stored('SrText')).toBe(true);
    const replay = await svc.text();
    expect(replay.readableEncoding).toBe('utf8');
    const again = await chunks(replay);
    expect(again.every((chunk) => typeof chunk === 'string') && again.join('')).toBe('t1-é');
    expect(svc.runs).toBe(1);
  });

  it('@Locked holds its lock until the stream has been read, not until the method returned it', async () => {
    svc.gate.hold();
    const iterator = svc.locked()[Symbol.asyncIterator]();
    await iterator.next();
    expect(await cache.isLocked('SrLock:locked')).toBe(true);
    expect(await rejection(collect(svc.locked()))).toBeInstanceOf(LockedError);
    svc.gate.release();
    await collect({ [Symbol.asyncIterator]: () => iterator });
    expect(await pollUntil(async () => !(await cache.isLocked('SrLock:locked')), 1_000, 5)).toBe(true);
    expect(await collect(svc.locked())).toHaveLength(3);
  });

  it.each([
    ['a Promise<Readable>', 'lockedReadable', 'SrLockReadable'],
    ['a StreamableFile', 'lockedFile', 'SrLockFile'],
  ] as const)(
    '@Locked on a method returning %s: a second call is refused while the first stream is read, not after',
    async (_kind, method, key) => {
      const open = async () => {
        const result = await svc[method]();
        return result instanceof StreamableFile ? result.getStream() : result;
      };
      svc.gate.hold();
      const first = await open();
      // The first chunk is read; the source is held before its second.
      expect(String(await new Promise((resolve) => first.once('data', resolve)))).toBe('1.1;');
      first.pause();
      expect(await cache.isLocked(`${key}:locked`)).toBe(true);
      expect(await rejection(svc[method]())).toBeInstanceOf(LockedError);
      svc.gate.release();
      first.resume();
      await new Promise((resolve) => first.once('end', resolve));
      expect(await pollUntil(async () => !(await cache.isLocked(`${key}:locked`)), 1_000, 5)).toBe(true);
      expect(await readAll(await open())).toBe('2.1;2.2;2.3;');
    },
  );

  it('@Locked on an Observable: a second subscriber is refused while the first is still receiving', async () => {
    svc.gate.hold();
    const received: number[] = [];
    const done = new Promise<void>((resolve, reject) =>
      svc.lockedObservable().subscribe({ next: (v) => received.push(v), error: reject, complete: resolve }),
    );
    expect(await pollUntil(async () => received.length === 1, 1_000, 5)).toBe(true);
    expect(await cache.isLocked('SrLockObservable:locked')).toBe(true);
    expect(await rejection(collectObservable(svc.lockedObservable()))).toBeInstanceOf(LockedError);
    svc.gate.release();
    await done;
    expect(received).toEqual([11, 12]);
    expect(await pollUntil(async () => !(await cache.isLocked('SrLockObservable:locked')), 1_000, 5)).toBe(true);
    expect(await collectObservable(svc.lockedObservable())).toEqual([21, 22]);
  });

  it('@Locked({ wait: true }) on a Promise<Readable>: the second caller gets its stream once the first was read', async () => {
    svc.gate.hold();
    const first = await svc.lockedReadableWait();
    expect(String(await new Promise((resolve) => first.once('data', resolve)))).toBe('1.1;');
    first.pause();
    let secondArrived = false;
    const second = svc.lockedReadableWait().then((stream) => {
      secondArrived = true;
      return stream;
    });
    // The lock is polled every 10 ms: a few polls later the second caller is still waiting, its method not run.
    await sleep(200);
    expect(secondArrived).toBe(false);
    expect(svc.runs).toBe(1);
    svc.gate.release();
    first.resume();
    await new Promise((resolve) => first.once('end', resolve));
    expect(await readAll(await second)).toBe('2.1;2.2;2.3;');
  });

  it('the stampede lock of @Cache({ lock: true }) is held until the recording is stored', async () => {
    svc.gate.hold();
    const iterator = svc.stamped()[Symbol.asyncIterator]();
    await iterator.next();
    expect(await cache.isLocked('SrStamp:stampede')).toBe(true);
    svc.gate.release();
    await collect({ [Symbol.asyncIterator]: () => iterator });
    expect(await pollUntil(async () => !(await cache.isLocked('SrStamp:stampede')), 1_000, 5)).toBe(true);
    expect(await cache.exists('SrStamp')).toBe(true);
  });

  it.each([['soft'], ['early'], ['hit']] as const)('@%s stores a stream and replays it', async (method) => {
    expect(await collect(svc[method]())).toEqual(RUN_1);
    expect(await stored(`Sr${method === 'hit' ? 'Hit' : method === 'soft' ? 'Soft' : 'Early'}`)).toBe(true);
    expect(await collect(svc[method]())).toEqual(RUN_1);
    expect(svc.runs).toBe(1);
  });

  it('@Failover replays the last stream that ran to its end when the method fails', async () => {
    expect(await collect(await svc.failover())).toEqual(RUN_1);
    expect(await stored('SrFailover')).toBe(true);
    svc.down = true;
    const { result, hits } = await CacheDetect.run(async () => collect(await svc.failover()));
    expect(result).toEqual(RUN_1);
    expect(hits).toEqual([expect.objectContaining({ key: 'SrFailover', stale: true, exception: 'SrUpstreamError' })]);
    expect(svc.runs).toBe(1);
  });

  it('every reader leaving releases the source at once, even with a read pending on it', async () => {
    const first = await svc.idle(1);
    first.destroy(); // the caller went away before reading
    const second = await svc.idle(2);
    await new Promise((resolve) => second.once('data', resolve));
    second.destroy(); // read one chunk; the source has no more yet
    expect(await pollUntil(async () => svc.opened.every((source) => source.destroyed), 1_000, 5)).toBe(true);
    await backgroundSettled();
    expect([await cache.exists('SrIdle:1'), await cache.exists('SrIdle:2')]).toEqual([false, false]);
  });

  it('maxBytes counts what a chunk stores, not its JSON text (a Map of 10 KB is not 2 bytes)', async () => {
    expect(await collect(svc.maps())).toHaveLength(5);
    await backgroundSettled();
    expect(await cache.exists('SrMaps')).toBe(false);
  });

  it('a request that joined the run of another reads it whole when the first client disconnects', async () => {
    const server = app.getHttpServer() as http.Server;
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const get = () =>
      new Promise<string>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/sr/rows' }, (res) => {
            let text = '';
            res.on('data', (chunk) => (text += String(chunk)));
            res.on('end', () => resolve(text));
          })
          .on('error', reject);
      });
    const all = Array.from({ length: 10 }, (_, i) => `row${i}\n`).join('');
    // A reads the first row and hangs up; B, sent meanwhile, shares A's run.
    const firstRow = new Promise<void>((resolve) => {
      const a = http.get({ host: '127.0.0.1', port, path: '/sr/rows' }, (res) =>
        res.once('data', () => {
          a.destroy();
          resolve();
        }),
      );
      a.on('error', () => undefined);
    });
    const b = get();
    await firstRow;
    expect(await b).toBe(all);
    await backgroundSettled();
    expect(await stored('SrRows')).toBe(true);
    // What was stored is the whole stream, not what was read when A left.
    expect(await get()).toBe(all);
    expect(app.get(SrEvents).rowRuns).toBe(1);
    await new Promise((resolve) => server.close(resolve));
  });

  it('a controller returning a plain Observable: its last value is sent and cached', async () => {
    const server = app.getHttpServer();
    await request(server).get('/sr/obs').expect(200, { run: 1, last: true });
    expect(await stored('SrHttpObs')).toBe(true);
    await request(server).get('/sr/obs').expect(200, { run: 1, last: true });
    expect(app.get(SrEvents).obsRuns).toBe(1);
  });

  it('a controller stream that fails midway stores nothing: the next request runs again', async () => {
    const server = app.getHttpServer();
    const events = app.get(SrEvents);
    events.failAfter = 2;
    // The response was already started when the stream failed: the client sees a cut response (or an error).
    const cut = await request(server)
      .get('/sr/failing')
      .buffer(true)
      .then(
        (response) => response.text,
        () => undefined,
      );
    expect(cut ?? '').not.toContain('row3');
    await backgroundSettled();
    expect(await cache.exists('SrHttpFailing')).toBe(false);
    events.failAfter = undefined;
    const whole = await request(server).get('/sr/failing').buffer(true).expect(200);
    expect(whole.text).toBe('row0\nrow1\nrow2\nrow3\n');
    expect(events.failingRuns).toBe(2);
    expect(await stored('SrHttpFailing')).toBe(true);
    expect((await request(server).get('/sr/failing').buffer(true).expect(200)).text).toBe(whole.text);
    expect(events.failingRuns).toBe(2);
  });

  it('a controller stream past maxBytes reaches the client whole and is not stored', async () => {
    const server = app.getHttpServer();
    const rows = (run: number) => Array.from({ length: 5 }, (_, i) => `${run}:${i}:${'x'.repeat(15)}\n`).join('');
    expect((await request(server).get('/sr/big').buffer(true).expect(200)).text).toBe(rows(1));
    await backgroundSettled();
    expect(await cache.exists('SrHttpBig')).toBe(false);
    expect((await request(server).get('/sr/big').buffer(true).expect(200)).text).toBe(rows(2));
    expect(app.get(SrEvents).bigRuns).toBe(2);
  });

  it('a server-sent events route: the events are recorded and a hit replays them', async () => {
    const server = app.getHttpServer();
    const first = await request(server).get('/sr/events').buffer(true).expect(200);
    expect(first.text).toContain('data: run 1 first');
    expect(first.text).toContain('data: run 1 second');
    expect(await stored('SrSse')).toBe(true);
    const second = await request(server).get('/sr/events').buffer(true).expect(200);
    expect(second.text).toContain('data: run 1 first');
    expect(second.text).toContain('data: run 1 second');
    expect(app.get(SrEvents).runs).toBe(1);
  });
});

describe('streamed results with codec=json', () => {
  afterEach(() => closeApps());

  it('are not stored (a stream is a typed value), and still reach their reader whole, every time', async () => {
    const { app, cache } = await startApp('mem://?codec=json', [SrStreams]);
    const svc = app.get(SrStreams);
    expect(await collect(svc.generated(1))).toEqual(RUN_1);
    await backgroundSettled();
    expect(await cache.exists('SrGen:1')).toBe(false);
    expect(await collect(svc.generated(1))).toEqual(RUN_1.map((chunk) => ({ ...chunk, run: 2 })));
  });
});
