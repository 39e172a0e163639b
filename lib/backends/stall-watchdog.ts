import type { Command, Redis } from 'ioredis';

/**
 * Bounds how long callers wait on a single Redis server that stopped answering, without a timer per command (ioredis's
 * `commandTimeout` arms one per call, which costs about a tenth of hit throughput). It counts commands in
 * flight and the replies that arrive; when commands are pending and nothing has answered for `timeoutMs`,
 * the connection is dropped so every pending call fails at once, and ioredis reconnects.
 */
export class StallWatchdog {
  private inflight = 0;
  private progress = 0;
  private seen = 0;
  private idleChecks = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly checksPerTimeout = 4;

  constructor(
    private readonly client: Redis,
    private readonly timeoutMs: number,
  ) {
    const send = client.sendCommand.bind(client) as (command: Command, ...rest: unknown[]) => unknown;
    const settled = () => {
      this.inflight--;
      this.progress++;
    };
    (client as { sendCommand: (command: Command, ...rest: unknown[]) => unknown }).sendCommand = (command, ...rest) => {
      this.inflight++;
      command.promise.then(settled, settled);
      return send(command, ...rest);
    };
    this.timer = setInterval(() => this.check(), Math.max(5, Math.floor(timeoutMs / this.checksPerTimeout)));
    this.timer.unref();
  }

  private check(): void {
    if (this.inflight <= 0 || this.progress !== this.seen) {
      this.seen = this.progress;
      this.idleChecks = 0;
      return;
    }
    if (++this.idleChecks < this.checksPerTimeout) return;
    this.idleChecks = 0;
    // ioredis would keep pending commands across the reconnect (and, with resend off, never settle
    // them), so fail them here, then drop the socket so late replies cannot be matched to new commands.
    // flushQueue is ioredis's own (typed private) way to reject its queues; the contract suite's fault
    // tests pin this behaviour for the ioredis major we depend on.
    (this.client as unknown as { flushQueue(error: Error): void }).flushQueue(
      new Error(`Redis did not answer for ${this.timeoutMs} ms (command_timeout)`),
    );
    this.client.disconnect(true);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
