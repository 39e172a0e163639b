/**
 * One write of a transaction's commit, as the backend receives it: raw values (already encoded), TTLs in ms. A
 * commit is a list of these, applied in order; a key may appear more than once (a counter deleted, then counted
 * again).
 */
export type BatchWrite =
  | {
      readonly op: 'set';
      readonly key: string;
      readonly raw: unknown;
      readonly ttl?: number;
      readonly tags?: readonly string[];
      /** `false`: only if the key is missing (`SET NX`); `true`: only if it exists (`XX`); the write is skipped else. */
      readonly exist?: boolean;
    }
  | { readonly op: 'delete'; readonly key: string }
  /** Adds `by` to the counter at `key`; `ttl` applies only when this creates it (as `incr`). */
  | { readonly op: 'incr'; readonly key: string; readonly by: number; readonly ttl?: number }
  | { readonly op: 'expire'; readonly key: string; readonly ttl: number };
