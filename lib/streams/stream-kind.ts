import { Readable } from 'node:stream';
import { StreamableFile } from '@nestjs/common';
import { isObservable } from 'rxjs';

/**
 * The streamed results a storing decorator records chunk by chunk: an async iterable (an async generator), an RxJS
 * Observable, a Node readable stream, or Nest's `StreamableFile`.
 */
export type StreamKind = 'iterable' | 'observable' | 'readable' | 'file';

/** The kind of stream `value` is, or `undefined` for a plain value. */
export function streamKindOf(value: unknown): StreamKind | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (value instanceof StreamableFile) return 'file';
  // A Readable is async-iterable too: told apart first, so it comes back as a stream of the same mode.
  if (value instanceof Readable) return 'readable';
  if (isObservable(value)) return 'observable';
  if (typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function') return 'iterable';
  return undefined;
}
