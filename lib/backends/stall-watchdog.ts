import type { Redis } from 'ioredis';

/**
 * Bounds how long callers wait on a single Redis server that stopped answering, at no cost per command
 * (ioredis's `commandTimeout` arms a timer per call, about a tenth of hit throughput). ioredis keeps the
 * commands awaiting a reply in `commandQueue`, oldest first; if the same command has stayed at its head
 * for `timeoutMs`, nothing has answered since, so every pending call is failed at once and the client
 * reconnects. On Cluster it watches each node connection next to ioredis's per-command timeout, which fails the
 * caller but keeps the command on a silent connection (see RedisClusterBackend).
 */
export class StallWatchdog {
  private head: unknown;
  private idleChecks = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly checksPerTimeout = 4;

  constructor(
    private readonly client: Redis,
    private readonly timeoutMs: number,
  ) {
    this.timer = setInterval(() => this.check(), Math.max(5, Math.floor(timeoutMs / this.checksPerTimeout)));
    this.timer.unref();
  }

  private check(): void {
    const head: unknown = this.client.commandQueue.peekFront();
    if (head === undefined || head !== this.head) {
      this.head = head;
      this.idleChecks = 0;
      return;
    }
    if (++this.idleChecks < this.checksPerTimeout) return;
    this.head = undefined;
    this.idleChecks = 0;
    // ioredis would keep pending commands across the reconnect (and, with resend off, never settle
    // them), so fail them here, then drop the socket so late replies cannot be matched to new commands.
    // flushQueue is ioredis's own (typed private) way to reject its queues; the fault tests pin it.
    (this.client as unknown as { flushQueue(error: Error): void }).flushQueue(
      new Error(`Redis did not answer for ${this.timeoutMs} ms (command_timeout)`),
    );
    this.client.disconnect(true);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
