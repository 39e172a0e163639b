import type { Redis } from 'ioredis';

/** One `WAIT` sent on the connection: the writes it covers (those sent before it) and the connection it went on. */
interface Wait {
  covers: number;
  epoch: number;
  reply: Promise<number>;
}

const ignore = (): void => undefined;

/**
 * `wait_replicas=N`: a write answers only once `WAIT` reports that N replicas of the master hold it. Replication is
 * otherwise asynchronous: a write the master acknowledged may not have reached a replica when that replica is
 * promoted, and is then lost. With WAIT, a write that answered is on N replicas; one that did not confirm in time
 * fails (a miss or `false` in safe mode, `CacheBackendError` for `incr`), and may or may not survive.
 *
 * - `WAIT` covers every write sent before it on the same connection, and blocks that connection until it answers.
 *   So one `WAIT` at a time is sent, shared by every write it covers (group commit): while replicas are missing,
 *   other commands queue behind at most one `WAIT` (its timeout), not one per write.
 * - A write whose connection was replaced before its `WAIT` went out would be "confirmed" by a `WAIT` on the new
 *   connection, which has written nothing: every 'close' of the client starts a new epoch, and a write and its
 *   `WAIT` must share one, or the write fails.
 */
export class ReplicaWait {
  private epoch = 0;
  /** Writes sent so far; a `WAIT` covers the writes numbered up to what this was when it was sent. */
  private sent = 0;
  private inFlight?: Wait;
  /** The `WAIT` to send once {@link inFlight} answers, shared by the writes that answered meanwhile. */
  private queued?: Promise<Wait>;

  constructor(
    private readonly client: Redis,
    private readonly replicas: number,
    private readonly timeoutMs: number,
  ) {
    client.on('close', () => {
      this.epoch += 1;
    });
  }

  /** Runs `write`, then answers its result once a `WAIT` sent after it reports enough replicas. */
  async confirm<T>(write: () => Promise<T>): Promise<T> {
    const epoch = this.epoch;
    const number = ++this.sent;
    const result = await write();
    const wait = await this.covering(number);
    if (wait.epoch !== epoch) {
      throw new Error(
        `the connection to Redis changed before WAIT could confirm the write on ${this.replicas} replica(s); ` +
          `it may or may not have been applied and replicated`,
      );
    }
    const acknowledged = await wait.reply;
    if (acknowledged < this.replicas) {
      throw new Error(
        `write not confirmed by ${this.replicas} replica(s) within ${this.timeoutMs} ms (WAIT answered ` +
          `${acknowledged}); it may be applied on the master, but a failover may lose it (wait_replicas)`,
      );
    }
    return result;
  }

  private covering(number: number): Promise<Wait> {
    if (this.inFlight && this.inFlight.covers >= number) return Promise.resolve(this.inFlight);
    if (!this.inFlight) return Promise.resolve(this.send());
    this.queued ??= this.inFlight.reply.then(ignore, ignore).then(() => {
      this.queued = undefined;
      return this.send();
    });
    return this.queued;
  }

  private send(): Wait {
    const wait: Wait = {
      covers: this.sent,
      epoch: this.epoch,
      reply: this.client.wait(this.replicas, this.timeoutMs),
    };
    this.inFlight = wait;
    // Registered before any writer's handler, so the next WAIT (queued) sees this one gone.
    const done = (): void => {
      if (this.inFlight === wait) this.inFlight = undefined;
    };
    wait.reply.then(done, done);
    return wait;
  }
}
