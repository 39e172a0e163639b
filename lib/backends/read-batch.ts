import type { Redis } from 'ioredis';
import type { RawReader } from './raw-reader.js';
import { ReadCommand } from './read-command.js';

/** ioredis's auto-pipelining state (a private field): the pipelines queued, not written yet. */
interface AutoPipelines {
  _autoPipelines?: { size: number };
}

/**
 * `GET`s issued in the same tick, sent as one `MGET` (a single Redis server): ioredis then builds, queues and
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
 * Order: a batch leaves at the end of the tick (after the microtasks that may add to it), unless {@link flush} sends
 * it earlier; the backend flushes it before every write, so a read issued before a write still reaches the server
 * before it. Reads may pass each other, which no reader can observe. A failed `MGET` fails every read of its batch
 * (each then a miss in safe mode): reads are never sent again.
 */
export class ReadBatch {
  private keys: string[] = [];
  private readers: Array<RawReader<unknown>> = [];
  private resolvers: Array<(value: unknown) => void> = [];
  private rejecters: Array<(error: unknown) => void> = [];

  constructor(
    private readonly client: Redis,
    /** A batch this large leaves at once (one reply of bounded size). */
    private readonly max = 512,
  ) {}

  /** Reads `key` in the current batch; the read settles with what `reader` makes of the reply (see RawReader). */
  read<T>(key: string, reader: RawReader<T>): Promise<T> {
    if (this.keys.length === 0) process.nextTick(this.flush);
    this.keys.push(key);
    this.readers.push(reader);
    const read = new Promise<T>(this.enqueue);
    if (this.keys.length >= this.max) this.flush();
    return read;
  }

  /** Takes a read's settle functions: one executor for every read, not a closure made per read. */
  private readonly enqueue = (resolve: (value: never) => void, reject: (error: unknown) => void): void => {
    this.resolvers.push(resolve as (value: unknown) => void);
    this.rejecters.push(reject);
  };

  /** Sends the pending reads now (nothing when there are none). */
  readonly flush = (): void => {
    const { keys, readers, resolvers, rejecters } = this;
    if (keys.length === 0) return;
    this.keys = [];
    this.readers = [];
    this.resolvers = [];
    this.rejecters = [];
    // Every read is settled in this loop, one reader call each: a reader that throws rejects its own read only.
    const answered = (values: ReadonlyArray<string | null>) => {
      for (let i = 0; i < keys.length; i++) {
        try {
          resolvers[i](readers[i].value(keys[i], values[i] ?? undefined));
        } catch (error) {
          rejecters[i](error);
        }
      }
    };
    const failed = (error: unknown) => {
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
  };

  /** The command, written at once unless an auto-pipeline is queued (see the class comment), else queued there. */
  private send(name: 'get' | 'mget', keys: string[]): Promise<unknown> {
    // Field missing (another ioredis): the auto-pipeline, which keeps every order.
    if ((this.client as unknown as AutoPipelines)._autoPipelines?.size !== 0) {
      return name === 'get' ? this.client.get(keys[0]) : this.client.mget(keys);
    }
    return this.client.sendCommand(new ReadCommand(name, keys)) as Promise<unknown>;
  }
}
