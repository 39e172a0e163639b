import { Readable } from 'node:stream';
import { StreamableFile } from '@nestjs/common';
import { Observable, type Subscription } from 'rxjs';
import { toTagged } from '../codec/value-walker.js';
import { readable, StoredStream, type StreamShape } from './stored-stream.js';
import type { StreamKind } from './stream-kind.js';

/** How a {@link Recording} keeps what flows through it. */
export interface RecordingOptions {
  /** Keep the chunks for storing, up to this many bytes in all; past it nothing is stored. `0`: keep nothing. */
  maxBytes: number;
}

/** Chunks a reader may run ahead of the slowest one when they are not kept for storing. */
const MAX_BACKLOG = 256;

/** A consumer's place in the chunks. */
interface Reader {
  at: number;
}

/**
 * One run of a method that returned a stream, shared by every caller of that run (concurrent callers of one key
 * share a single flight) and recorded as it flows. Each caller gets its own stream of the same kind
 * ({@link consumer}) that plays every chunk from the first; the source is read once, as fast as the fastest
 * consumer asks (an Observable pushes at its own pace). {@link done} gives the {@link StoredStream} once the source
 * completed within `maxBytes`, or `undefined` when it failed, was abandoned by every consumer, or grew too large.
 *
 * Memory: while chunks are kept for storing they total at most `maxBytes`; past that (or with `maxBytes: 0`) a chunk
 * is dropped once every consumer has read it.
 */
export class Recording {
  /** The recorded stream, once it ended: stored by the layer; `undefined` when there is nothing to store. */
  readonly done: Promise<StoredStream | undefined>;
  private resolveDone!: (stored: StoredStream | undefined) => void;
  private readonly chunks: unknown[] = [];
  /** Index (in the whole stream) of `chunks[0]`: chunks before it were read by everyone and dropped. */
  private base = 0;
  private bytes = 0;
  private keeping: boolean;
  private state: 'open' | 'done' | 'failed' | 'abandoned' = 'open';
  private failure: unknown;
  private readonly readers = new Set<Reader>();
  private wake: Array<() => void> = [];
  private pulling?: Promise<void>;
  private iterator?: AsyncIterator<unknown>;
  private subscription?: Subscription;
  private readonly shape: StreamShape;
  private saving?: Promise<unknown>;
  /** The source's own `return()`, kept when it is wrapped by {@link own}: the recording's way to release it. */
  private returnSource?: () => Promise<unknown>;
  /** The stream of a `StreamableFile` source, taken over by {@link own}. */
  private fileStream?: Readable;
  /** The source was ended from outside (see {@link own}). */
  private cancelled = false;

  constructor(
    private readonly source: unknown,
    readonly kind: StreamKind,
    private readonly options: RecordingOptions,
  ) {
    this.keeping = options.maxBytes > 0;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.own(source);
    this.shape =
      kind === 'readable'
        ? {
            objectMode: (source as Readable).readableObjectMode,
            ...((source as Readable).readableEncoding ? { encoding: (source as Readable).readableEncoding! } : {}),
          }
        : kind === 'file'
          ? { file: { ...(source as StreamableFile).options } }
          : {};
  }

  /** A stream of the recorded kind for one caller, playing the whole run from its first chunk. */
  consumer(): unknown {
    switch (this.kind) {
      case 'observable':
        return new Observable<unknown>((subscriber) => {
          const chunks = this.read();
          void (async () => {
            try {
              for await (const chunk of chunks) {
                if (subscriber.closed) break;
                subscriber.next(chunk);
              }
              subscriber.complete();
            } catch (error) {
              subscriber.error(error);
            }
          })();
          return () => void chunks.return?.();
        });
      case 'readable':
        return readable(this.read(), this.shape.objectMode === true, this.shape.encoding);
      case 'file':
        return new StreamableFile(Readable.from(this.read(), { objectMode: false }), this.shape.file);
      default:
        return this.read();
    }
  }

  /** Whether a new caller can still read this run from its first chunk (not failed or left, nothing dropped). */
  joinable(): boolean {
    return (this.state === 'open' || this.state === 'done') && this.base === 0;
  }

  /** Work that stores the recording (the layer's `set`): {@link settled} waits for it too. */
  holdFor(saving: Promise<unknown>): void {
    this.saving = saving;
  }

  /** Resolves once the run ended and what it stored (if anything) is written: a lock on the run may go then. */
  settled(): Promise<void> {
    return this.done
      .then(() => this.saving)
      .then(
        () => undefined,
        () => undefined,
      );
  }

  /** Reads the run to its end with no caller (a background refresh): it is recorded and stored all the same. */
  async drain(): Promise<void> {
    const chunks = this.read();
    try {
      // Read on only while there is something to store or another reader: an oversized (or endless) run nobody
      // reads is released instead.
      while (this.keeping || this.readers.size > 1 || this.state !== 'open') {
        if ((await chunks.next()).done) return;
      }
    } catch {
      // The failure is the run's; `done` reports that nothing is stored.
    } finally {
      await chunks.return?.();
    }
  }

  /**
   * One consumer: an iterator over every chunk from the first, waiting for (or pulling) the next one at the end of
   * the buffer. It counts as a reader from now on (so no chunk it has not read is dropped), until it ends or is
   * closed with `return()`; when the last reader leaves before the end, the run is abandoned.
   */
  private read(): AsyncIterableIterator<unknown> {
    if (this.base > 0) {
      throw new Error('This stream is past its recording size and its first chunks are gone: it cannot be replayed.');
    }
    if (this.state === 'abandoned') {
      // Never a short stream that looks complete: the run was released before this caller started reading.
      throw new Error(
        'This stream was left by every other reader and released before this caller read it: call again.',
      );
    }
    const reader: Reader = { at: 0 };
    this.readers.add(reader);
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.readers.delete(reader);
      this.trim();
      // A caller sharing the run may be about to start reading (it got the run a moment ago): give it a turn.
      if (this.readers.size === 0 && this.state === 'open') {
        setImmediate(() => {
          if (this.readers.size === 0 && this.state === 'open') this.abandon();
        });
      }
    };
    const ended = { done: true, value: undefined } as const;
    const iterator: AsyncIterableIterator<unknown> = {
      next: async () => {
        for (;;) {
          if (closed) return ended;
          if (reader.at < this.base + this.chunks.length) {
            const value = this.chunks[reader.at - this.base];
            reader.at++;
            this.trim();
            return { done: false, value };
          }
          if (this.state === 'failed') {
            close();
            throw this.failure;
          }
          if (this.state !== 'open') {
            close();
            return ended;
          }
          await this.more();
        }
      },
      return: async () => {
        close();
        return ended;
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** Waits for the next chunk or the end: pulls it from an iterable source, or waits for an Observable to push. */
  private more(): Promise<void> {
    if (this.kind === 'observable') {
      const seen = this.base + this.chunks.length;
      this.subscribe();
      // An Observable may emit (and end) synchronously while it is subscribed: nothing left to wait for then.
      if (this.base + this.chunks.length !== seen || this.state !== 'open') return Promise.resolve();
      return new Promise((resolve) => this.wake.push(resolve));
    }
    // Not kept for storing: a reader ahead of the slowest one by MAX_BACKLOG chunks waits for it, so the chunks held
    // for slow readers stay bounded.
    if (!this.keeping && this.chunks.length >= MAX_BACKLOG) return new Promise((resolve) => this.wake.push(resolve));
    this.pulling ??= this.pull().finally(() => (this.pulling = undefined));
    return this.pulling;
  }

  private async pull(): Promise<void> {
    try {
      this.iterator ??= this.openIterator();
      const step = await this.iterator.next();
      if (this.state !== 'open') return;
      if (step.done && this.cancelled) {
        this.fail(new Error('The stream was cancelled from outside before its end (its response closed): not stored.'));
      } else if (step.done) this.finish();
      else this.push(step.value);
    } catch (error) {
      this.fail(error);
    }
  }

  private openIterator(): AsyncIterator<unknown> {
    const iterable = this.kind === 'file' ? this.fileStream! : (this.source as AsyncIterable<unknown>);
    return iterable[Symbol.asyncIterator]();
  }

  private subscribe(): void {
    if (this.subscription || this.state !== 'open') return;
    this.subscription = (this.source as Observable<unknown>).subscribe({
      next: (chunk) => {
        if (this.state !== 'open') return;
        this.push(chunk);
        this.notify();
      },
      error: (error: unknown) => {
        this.fail(error);
        this.notify();
      },
      complete: () => {
        this.finish();
        this.notify();
      },
    });
  }

  private notify(): void {
    const waiting = this.wake;
    this.wake = [];
    for (const resolve of waiting) resolve();
  }

  private push(chunk: unknown): void {
    this.chunks.push(chunk);
    if (!this.keeping) return;
    this.bytes += sizeOf(chunk);
    if (this.bytes > this.options.maxBytes) {
      this.keeping = false;
      this.trim();
    }
  }

  /** Drops the chunks every consumer has read, unless they are kept for storing. */
  private trim(): void {
    if (this.keeping || this.readers.size === 0) return;
    let lowest = Infinity;
    for (const reader of this.readers) lowest = Math.min(lowest, reader.at);
    const drop = Math.min(lowest - this.base, this.chunks.length);
    if (drop > 0) {
      this.chunks.splice(0, drop);
      this.base += drop;
      this.notify();
    }
  }

  private finish(): void {
    if (this.state !== 'open') return;
    this.state = 'done';
    this.resolveDone(this.keeping ? new StoredStream(this.kind, this.chunks.slice(), this.shape) : undefined);
  }

  private fail(error: unknown): void {
    if (this.state !== 'open') return;
    this.state = 'failed';
    this.failure = error;
    this.resolveDone(undefined);
  }

  /** Every consumer left before the end: the source is released and nothing is stored. */
  private abandon(): void {
    this.state = 'abandoned';
    this.resolveDone(undefined);
    this.subscription?.unsubscribe();
    // What the source reads from is released now, even with a read pending (a generator's return() would wait for it).
    if (this.kind === 'readable') (this.source as Readable).destroy();
    else if (this.kind === 'file') this.fileStream?.destroy();
    else if (this.kind === 'iterable') {
      const iterator = this.iterator ?? (this.source as Partial<AsyncIterator<unknown>>);
      void Promise.resolve(this.returnSource?.() ?? iterator.return?.()).catch(() => undefined);
    }
    this.notify();
  }

  /**
   * The recording owns the source from now on. Nest 12 releases a handler's own stream once that request's response
   * is over; shared with other readers, that would cut their run short, and a generator cut by `return()` ends as if
   * complete. So the source is marked locked (Nest then leaves it to its reader, as it does a locked web stream), and
   * a `return()` from outside marks the run cancelled: it fails instead of being stored short.
   */
  private own(source: unknown): void {
    if (this.kind === 'file') {
      // Nest destroys the stream of a handler's StreamableFile once that request is over: the recording keeps the
      // stream, and the file answers an empty one from now on.
      const file = source as StreamableFile;
      this.fileStream = file.getStream();
      Object.defineProperty(file, 'getStream', { configurable: true, value: () => Readable.from([]) });
      return;
    }
    const target = source as Record<string, unknown> | undefined;
    if (!target || !Object.isExtensible(target)) return;
    if (!('locked' in target)) Object.defineProperty(target, 'locked', { value: true, configurable: true });
    const original = target.return;
    if (this.kind === 'iterable' && typeof original === 'function') {
      this.returnSource = () => (original as (value?: unknown) => Promise<unknown>).call(target);
      Object.defineProperty(target, 'return', {
        configurable: true,
        writable: true,
        value: (value?: unknown) => {
          if (this.state === 'open') this.cancelled = true;
          return (original as (value?: unknown) => Promise<unknown>).call(target, value);
        },
      });
    }
  }
}

/**
 * Bytes a chunk adds to a recording: its length for bytes and text, else the length of its stored form (the codec's
 * tagged tree, so that a `Map`, a `Set` or a typed array counts its content); unstorable counts as too large.
 */
function sizeOf(chunk: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk);
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  try {
    return Buffer.byteLength(JSON.stringify(toTagged(chunk)) ?? '');
  } catch {
    return Infinity;
  }
}
