import { Command } from 'ioredis';

/** The commands a read batch sends. */
export type ReadCommandName = 'get' | 'mget' | 'pttl';

/**
 * A `GET`, `MGET` or `PTTL` of a read batch (see lib/backends/read-batch.ts), built without copying its keys. ioredis copies
 * a command's arguments with `Array.prototype.flat()`, about as long as building and writing the rest of the command:
 * 8 us for 100 keys here, every batch. The batch hands over its own array of strings, which nothing changes after;
 * ioredis converts arguments when the command is made, from the empty list given to it here, which is all it would
 * do for these: keys are strings already, and `GET`/`MGET`/`PTTL` have no argument transformer.
 */
export class ReadCommand extends Command {
  constructor(name: ReadCommandName, keys: string[]) {
    super(name, [], { replyEncoding: 'utf8' });
    this.args = keys;
  }
}
