import type { Redis } from 'ioredis';

/**
 * Message of the error every command still awaiting its reply gets when its connection drops. The command
 * reached Redis or not, ran or not: nobody can tell, so it is never re-sent (an `INCR`, a rate-limit script
 * or a `SET NX` lock must run at most once per call) and the caller gets this failure (safe mode: a miss).
 * Deliberately not ioredis's "Connection is closed.", which Cluster would re-send after `retryDelayOnFailover`.
 */
export const REPLY_LOST_MESSAGE =
  'Connection to Redis lost before the reply; the command was not re-sent (it may or may not have been applied)';

/**
 * At most once per call on one connection: ioredis keeps the commands awaiting a reply when the socket
 * closes and, unless `autoResendUnfulfilledCommands` is off, writes them again after the reconnect, so a
 * command Redis already ran runs twice. With resending off it instead forgets them, and their callers
 * would wait forever. So on 'close' (emitted before any reconnect attempt, the queue still the old one)
 * every unanswered command is rejected.
 */
export function failUnansweredOnClose(client: Redis): void {
  client.on('close', () => {
    if (client.commandQueue.length === 0) return;
    // flushQueue is ioredis's own (typed private) way to reject a queue; the fault suite pins it.
    (client as unknown as { flushQueue(error: Error, options: { offlineQueue: boolean }): void }).flushQueue(
      new Error(REPLY_LOST_MESSAGE),
      { offlineQueue: false },
    );
  });
}

/** An error ioredis reports for a reply, with the command it answered (set by its DataHandler). */
interface CommandError extends Error {
  command?: { name: string; args: unknown[] };
}

/**
 * A `SELECT` refused while a connection is being set up (ioredis only emits it as an 'error' event and
 * carries on in database 0, so every write would land in db 0 and `clear()` would flush db 0). Drops the
 * connection before it becomes ready, so no command ever runs on the wrong database; ioredis reconnects
 * with its retry strategy and the connection is used again once `SELECT` succeeds.
 * `onFailure` receives the server's error; `onSelected` runs on every 'ready' (the SELECT succeeded).
 */
export function refuseFailedSelect(
  client: Redis,
  onFailure: (error: Error) => void,
  onSelected: () => void = () => undefined,
): void {
  client.on('error', (error: CommandError) => {
    if (error?.command?.name?.toLowerCase() !== 'select') return;
    onFailure(error);
    client.disconnect(true);
  });
  client.on('ready', onSelected);
}

/**
 * The server's number of databases (`CONFIG GET databases`) through a throw-away connection to db 0, or
 * `undefined` when it cannot be read (managed servers often disable `CONFIG`).
 */
export async function databaseCount(probe: Redis): Promise<number | undefined> {
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    const reply = (await probe.config('GET', 'databases')) as string[];
    const count = Number(reply?.[1]);
    return Number.isInteger(count) && count > 0 ? count : undefined;
  } catch {
    return undefined;
  } finally {
    probe.disconnect();
  }
}
