import type { Redis } from 'ioredis';
// The module's exports object itself (in the ES module build too, where a namespace import is a snapshot): read at
// each scheduling, it is what node:timers exports now.
import timers from 'node:timers';
import type { RawReader } from './raw-reader.js';
import { ReadCommand, type ReadCommandName } from './read-command.js';

/** ioredis's auto-pipelining state (a private field): the pipelines queued, not written yet. */
interface AutoPipelines {
  _autoPipelines?: { size: number };
}

/**
 * Node's `setImmediate`, taken once when this module loads: a batch waits for the event loop, never for a test's fake
 * clock. Read at each call instead, fake timers installed later could hold every Redis read: Jest's and
 * `@sinonjs/fake-timers` replace the global, and `node:test`'s `mock.timers.enable()` replaces `node:timers`'
 * export too, which the CommonJS build looked up at each call (`(0, node_timers_1.setImmediate)(…)`).
 */
const loaded: typeof setImmediate = timers.setImmediate;

/**
 * Schedules `flush` with the `setImmediate` taken at load and, when `node:timers` exports another one now, with that
 * one too: the module may have been loaded while `mock.timers` was enabled (its fake taken at load, never run once
 * the test resets the clock), and no process can tell a fake from the real function. Whichever runs first sends the
 * batch; the other finds it sent (a flush with nothing pending does nothing) or sends a later batch a turn early.
 */
function schedule(flush: () => void): void {
  loaded(flush);
  const now = timers.setImmediate;
  if (now !== loaded) now(flush);
}

/** A burst of reads this large (or larger) leaves in two batches when nothing is in flight (see {@link ReadBatch}). */
const SPLIT_FROM = 32;

/** What a batch writes to: the connection's socket, corked while a flush writes more than one command. */
interface Corkable {
  status: string;
  stream?: { cork(): void; uncork(): void };
}

/**
 * `GET`s issued in the same turn of the event loop, sent as one `MGET` (a single Redis server): ioredis then builds, queues and
 * answers one command for the whole batch instead of one per key, which is most of a Redis hit's CPU when many
 * callers read at once (100 concurrent readers: about half the client CPU per read). A batch of one key is a plain
 * `GET`, so a lone caller's read is unchanged.
 *
 * The batch is written to the socket at once, not through ioredis's auto-pipelining (a pipeline object, a
 * `setImmediate` and a callback per command: about a quarter of the client CPU of a batched read), unless a
 * pipeline is queued there, not written yet: a write in it must reach the server before a read issued after it, so
 * the batch then joins the queue. A pipeline already executing needs no wait: on one server ioredis writes a
 * pipeline's commands as it executes it, so they are on the socket before anything written later.
 *
 * Order: a batch leaves in the turn's `setImmediate` phase, after the turn's I/O callbacks (each request an HTTP
 * server read from its sockets in the turn, each reply that woke callers) and the microtasks they ran, unless
 * {@link flush} sends it earlier; the backend flushes it before every write, so a read issued before a write still
 * reaches the server before it. Sent at the end of each tick instead (`process.nextTick`), the reads of a server
 * answering cached requests left one `GET` per request, a socket write each: about 25 µs of CPU per request in a
 * profile of such a server on this machine, more than the rest of the library's share of a request, where node-redis
 * (which waits for `setImmediate` too) wrote the reads of a turn at once. Reads may pass each other, which no reader
 * can observe. A read issued from the `setImmediate` phase itself, or from a later phase of the turn (a `close`
 * callback), leaves in the next turn's, a turn later. A failed `MGET` fails every read of its batch
 * (each then a miss in safe mode): reads are never sent again.
 *
 * Two batches in flight: a burst of reads that finds nothing in flight leaves as two `MGET`s, the first as soon as it
 * holds half as many reads as the last such burst (the callers a reply wakes issue their next reads in the same
 * turn), so that the client reads and answers one reply while the server answers the other; waiting for one reply at a
 * time, each side sat idle while the other worked (100 concurrent readers: about 1.25x the reads per second split
 * in two). Later bursts then find the other batch in flight and leave whole, at the end of their turn.
 *
 * A remaining TTL asked in the same turn ({@link expire}: a hit a detection scope records asks its value and its TTL
 * together) leaves with the batch as a `PTTL` written the same way, after the read, in the same socket write: a
 * detected hit then costs the client two small commands instead of a `GET` plus a `PTTL` through the auto-pipeline.
 */
export class ReadBatch {
  private keys: string[] = [];
  private readers: Array<RawReader<unknown>> = [];
  private resolvers: Array<(value: unknown) => void> = [];
  private rejecters: Array<(error: unknown) => void> = [];
  /** `PTTL`s asked in this turn: each key, and its read's settle functions. */
  private expireKeys: string[] = [];
  private expireResolvers: Array<(value: number) => void> = [];
  private expireRejecters: Array<(error: unknown) => void> = [];
  /** Reads sent and not answered yet. */
  private inFlight = 0;
  /** Reads answered since nothing was last in flight. */
  private answeredSince = 0;
  /** The reads answered from one moment with nothing in flight to the next: the burst their callers come back as. */
  private burst = 0;
  /** The current batch leaves once it holds this many reads (see the class comment). */
  private limit: number;

  constructor(
    private readonly client: Redis,
    /** A batch this large leaves at once (one reply of bounded size). */
    private readonly max = 512,
  ) {
    this.limit = max;
  }

  /** Reads `key` in the current batch; the read settles with what `reader` makes of the reply (see RawReader). */
  read<T>(key: string, reader: RawReader<T>): Promise<T> {
    if (this.keys.length === 0) {
      if (this.expireKeys.length === 0) schedule(this.flush);
      // Halves of at least SPLIT_FROM / 2 reads: a smaller burst gains less from the overlap than a command costs.
      // Never above `max`: after replies that arrived together (or a long run that never emptied) the burst can be
      // far larger than one batch may be.
      this.limit =
        this.inFlight === 0 && this.burst >= SPLIT_FROM ? Math.min(this.max, Math.ceil(this.burst / 2)) : this.max;
    }
    this.keys.push(key);
    this.readers.push(reader);
    const read = new Promise<T>(this.enqueue);
    if (this.keys.length >= this.limit) this.flush();
    return read;
  }

  /** Takes a read's settle functions: one executor for every read, not a closure made per read. */
  private readonly enqueue = (resolve: (value: never) => void, reject: (error: unknown) => void): void => {
    this.resolvers.push(resolve as (value: unknown) => void);
    this.rejecters.push(reject);
  };

  /** The remaining TTL of `key` in ms (as `PTTL`: -2 missing, -1 no expiry), sent with the current batch. */
  expire(key: string): Promise<number> {
    if (this.keys.length === 0 && this.expireKeys.length === 0) schedule(this.flush);
    this.expireKeys.push(key);
    const left = new Promise<number>(this.enqueueExpire);
    if (this.expireKeys.length >= this.max) this.flush();
    return left;
  }

  private readonly enqueueExpire = (resolve: (value: number) => void, reject: (error: unknown) => void): void => {
    this.expireResolvers.push(resolve);
    this.expireRejecters.push(reject);
  };

  /** Sends the pending reads now (nothing when there are none). */
  readonly flush = (): void => {
    const { keys, expireKeys } = this;
    if (keys.length + expireKeys.length === 0) return;
    // More than one command: one socket write for all of them (a write each otherwise, a syscall each).
    const stream = keys.length !== 0 && expireKeys.length !== 0 ? this.corked() : undefined;
    try {
      if (keys.length !== 0) this.flushReads();
      if (expireKeys.length !== 0) this.flushExpires();
    } finally {
      stream?.uncork();
    }
  };

  /** The connection's socket, corked; `undefined` when not connected (commands then wait in ioredis's queue). */
  private corked(): Corkable['stream'] {
    const client = this.client as unknown as Corkable;
    if (client.status !== 'ready' || !client.stream) return undefined;
    client.stream.cork();
    return client.stream;
  }

  private flushExpires(): void {
    const { expireKeys: keys, expireResolvers: resolvers, expireRejecters: rejecters } = this;
    this.expireKeys = [];
    this.expireResolvers = [];
    this.expireRejecters = [];
    for (let i = 0; i < keys.length; i++) {
      try {
        (this.send('pttl', [keys[i]]) as Promise<number>).then(resolvers[i], rejecters[i]);
      } catch (error) {
        rejecters[i](error);
      }
    }
  }

  private flushReads(): void {
    const { keys, readers, resolvers, rejecters } = this;
    this.keys = [];
    this.readers = [];
    this.resolvers = [];
    this.rejecters = [];
    this.inFlight += keys.length;
    const settled = () => {
      this.inFlight -= keys.length;
      this.answeredSince += keys.length;
      // Both halves may be answered in one read of the socket, before any of their callers reads again: the burst is
      // everything answered since nothing was in flight, not the last batch alone.
      if (this.inFlight === 0) {
        this.burst = this.answeredSince;
        this.answeredSince = 0;
      }
    };
    // Every read is settled in this loop, one reader call each: a reader that throws rejects its own read only.
    const answered = (values: ReadonlyArray<string | null>) => {
      settled();
      for (let i = 0; i < keys.length; i++) {
        try {
          resolvers[i](readers[i].value(keys[i], values[i] ?? undefined));
        } catch (error) {
          rejecters[i](error);
        }
      }
    };
    const failed = (error: unknown) => {
      settled();
      for (let i = 0; i < keys.length; i++) {
        try {
          resolvers[i](readers[i].failed(keys[i], error));
        } catch (thrown) {
          rejecters[i](thrown);
        }
      }
    };
    try {
      if (keys.length === 1) {
        this.send('get', keys).then((value) => answered([value as string | null]), failed);
      } else {
        (this.send('mget', keys) as Promise<ReadonlyArray<string | null>>).then(answered, failed);
      }
    } catch (error) {
      failed(error);
    }
  }

  /** The command, written at once unless an auto-pipeline is queued (see the class comment), else queued there. */
  private send(name: ReadCommandName, keys: string[]): Promise<unknown> {
    // Field missing (another ioredis): the auto-pipeline, which keeps every order.
    if ((this.client as unknown as AutoPipelines)._autoPipelines?.size !== 0) {
      return name === 'mget' ? this.client.mget(keys) : this.client[name](keys[0]);
    }
    return this.client.sendCommand(new ReadCommand(name, keys)) as Promise<unknown>;
  }
}
