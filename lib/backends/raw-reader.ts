/**
 * What a read answers, made by the caller from the backend's reply (see `Backend.readWith`): the backend calls it
 * where the reply arrives, and the read's promise settles with what it returns (or rejects with what it throws).
 * Each layer between the reply and the caller (counting, decoding, safe mode) then costs a call, not a promise and
 * a microtask of its own: on a Redis hit under load those hops were a fifth of the client CPU of a read. A reader is
 * meant to be made once and passed to every read (the counting backend keeps its wrapper of the last one).
 */
export interface RawReader<T> {
  /** The raw value read; `undefined` when the key is missing. */
  value(key: string, raw: unknown): T;
  /** The read failed with `error`; throwing rejects the read with what is thrown. */
  failed(key: string, error: unknown): T;
}

/** Answers the raw value, and rejects with the backend's error: a plain `get`. */
export const RAW_READER: RawReader<unknown> = {
  value: (_key, raw) => raw,
  failed: (_key, error) => {
    throw error;
  },
};
