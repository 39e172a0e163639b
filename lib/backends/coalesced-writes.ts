import type { Redis } from 'ioredis';

/**
 * Commands written to one connection in the same tick leave in one socket write: the socket is corked at the first
 * and uncorked once the tick's callbacks and promise continuations have run (`process.nextTick`), so Node hands them
 * to the kernel together. What ioredis's auto-pipelining gave on Cluster, without its pipeline: each command is still
 * sent, answered and redirected (MOVED/ASK) on its own. Order and replies are unchanged; a command that was not
 * written before the connection closed fails as any unanswered command does (see connection-guards.ts).
 */
export function coalesceWrites(node: Redis): void {
  const send = node.sendCommand;
  let corked = false;
  node.sendCommand = function (this: Redis, ...args: Parameters<Redis['sendCommand']>) {
    const socket = this.stream;
    if (!corked && socket?.writable) {
      corked = true;
      socket.cork();
      process.nextTick(() => {
        corked = false;
        socket.uncork();
      });
    }
    return send.apply(this, args);
  } as Redis['sendCommand'];
}
