import { Readable } from 'node:stream';
import { StreamableFile } from '@nestjs/common';
import { from, type Observable } from 'rxjs';
import { registerCacheableClass } from '../codec/class-registry.js';
import type { StreamKind } from './stream-kind.js';

/** Options of a Nest `StreamableFile` (content type, disposition, length). */
export type StreamableFileOptions = StreamableFile['options'];

/** What a replay needs besides the chunks: the mode of a readable stream, the headers of a file. */
export interface StreamShape {
  /** A readable stream of objects rather than bytes. */
  objectMode?: boolean;
  /** The text encoding a byte stream was read with (`setEncoding`): its chunks are strings, and so are the replay's. */
  encoding?: BufferEncoding;
  /** `StreamableFile` options (content type, disposition, length). */
  file?: StreamableFileOptions;
}

/**
 * The stored form of a streamed result: its kind, every chunk in order, and its shape. Registered under a reserved
 * name, so the codec rebuilds it like any registered class and no stored value can pass for one (as stored errors).
 */
export class StoredStream {
  constructor(
    /** Kind of the recorded stream. */
    readonly k: StreamKind,
    /** The chunks, in order. */
    readonly c: readonly unknown[],
    /** Its shape. */
    readonly s: StreamShape,
  ) {}
}

const STORED_STREAM_NAME = 'cashews.StoredStream';

/** Registers {@link StoredStream} with the codec (every storing decorator does, at decoration). */
export function registerStoredStream(): void {
  registerCacheableClass(StoredStream, STORED_STREAM_NAME);
}

/** A new stream of the recorded kind that plays the stored chunks; each call gives an independent one. */
export function replay(stored: StoredStream): unknown {
  const chunks = Array.isArray(stored.c) ? [...(stored.c as unknown[])] : [];
  switch (stored.k) {
    case 'observable':
      return from(chunks) as Observable<unknown>;
    case 'readable':
      return readable(chunks, stored.s?.objectMode === true, stored.s?.encoding);
    case 'file':
      return new StreamableFile(Readable.from(chunks, { objectMode: false }), fileOptions(stored.s?.file));
    default:
      return (async function* () {
        yield* chunks;
      })();
  }
}

/** A readable stream of `chunks` in the recorded mode: objects, bytes, or text in an encoding Node knows. */
export function readable(
  chunks: Iterable<unknown> | AsyncIterable<unknown>,
  objectMode: boolean,
  encoding: unknown,
): Readable {
  const stream = Readable.from(chunks, { objectMode });
  if (!objectMode && typeof encoding === 'string' && Buffer.isEncoding(encoding)) stream.setEncoding(encoding);
  return stream;
}

/** The file options of a stored stream, keeping only fields of the expected types (it was read from the backend). */
function fileOptions(given: unknown): StreamableFileOptions {
  if (typeof given !== 'object' || given === null) return {};
  const { type, disposition, length } = given as Record<string, unknown>;
  const options: StreamableFileOptions = {};
  if (typeof type === 'string') options.type = type;
  if (typeof disposition === 'string') options.disposition = disposition;
  if (typeof length === 'number' && Number.isInteger(length) && length >= 0) options.length = length;
  return options;
}
