import { CashewsConfigError } from '../errors.js';
import { primitiveFailure, type Primitive } from '../primitives/primitive.js';

/** One key's calls of one primitive with the same arguments in this tick. */
interface Group {
  readonly primitive: Primitive<readonly unknown[], unknown>;
  readonly key: string;
  readonly args: readonly unknown[];
  readonly resolvers: Array<(value: unknown) => void>;
  readonly rejecters: Array<(error: unknown) => void>;
}

/** Sends `calls` calls of a primitive's `many` script for `key` (ARGV: the count, then the call's own ARGV). */
export type SendMany = (
  primitive: Primitive<readonly unknown[], unknown>,
  key: string,
  argv: Array<string | number>,
) => Promise<unknown>;

/**
 * Calls of a primitive that has a `many` form (`@RateLimit`'s fixed window), issued in the same tick for the same key
 * with the same arguments, sent as one script call that runs them one after another on the server and answers each
 * what it would have answered alone. A hundred concurrent callers of a rate-limited method were a hundred script calls,
 * and the server's CPU per script call, not the client, bounded the calls per second; now they are one.
 *
 * Groups leave in the order of their first call: a call joining an earlier group of its key may be counted before a
 * call of another group issued before it (calls of one tick are concurrent; none can tell the order).
 *
 * The group leaves at the end of the tick, or earlier when the backend sends a write or another script ({@link flush}):
 * those still reach the server after a call issued before them. Reads issued after a call may pass it; none reads
 * protection state, which is all a coalesced primitive touches. A failed script call fails every call of its group,
 * each once: nothing is sent again.
 */
export class CoalescedCalls {
  private groups = new Map<string, Group>();

  constructor(private readonly send: SendMany) {}

  /** Queues one call; it settles with the primitive's answer for its place in the group. */
  add<A extends readonly unknown[], R>(primitive: Primitive<A, R>, key: string, args: A): Promise<R> {
    // Arguments of a primitive with a `many` form are numbers or strings (its ARGV), so joining them identifies them;
    // anything else could make two different calls one group.
    for (const arg of args) {
      if (typeof arg !== 'number' && typeof arg !== 'string') return Promise.reject(manyArgumentError(primitive, arg));
    }
    if (this.groups.size === 0) process.nextTick(this.flush);
    const id = `${primitive.name}\0${key}\0${args.join('\0')}`;
    let group = this.groups.get(id);
    if (!group) {
      group = {
        primitive: primitive as unknown as Group['primitive'],
        key,
        args,
        resolvers: [],
        rejecters: [],
      };
      this.groups.set(id, group);
    }
    const { resolvers, rejecters } = group;
    return new Promise<R>((resolve, reject) => {
      resolvers.push(resolve as (value: unknown) => void);
      rejecters.push(reject);
    });
  }

  /** Sends every queued group now (nothing when there is none). */
  readonly flush = (): void => {
    if (this.groups.size === 0) return;
    const groups = this.groups;
    this.groups = new Map();
    for (const group of groups.values()) this.sendGroup(group);
  };

  private sendGroup(group: Group): void {
    const { primitive, key, args, resolvers, rejecters } = group;
    const many = primitive.many as NonNullable<Group['primitive']['many']>;
    let sent: Promise<unknown>;
    try {
      sent = this.send(primitive, key, [resolvers.length, ...primitive.redisArgs(...args)]);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (reply) => {
        for (let i = 0; i < resolvers.length; i++) {
          try {
            resolvers[i](many.fromRedis(reply, i, ...args));
          } catch (error) {
            rejecters[i](error);
          }
        }
      },
      (error: unknown) => {
        const thrown = primitiveFailure(primitive, error, key);
        for (const reject of rejecters) reject(thrown);
      },
    );
  }
}

function manyArgumentError(primitive: { readonly name: string }, arg: unknown): CashewsConfigError {
  const type = arg === null ? 'null' : typeof arg;
  return new CashewsConfigError(
    `Primitive "${primitive.name}" declares a \`many\` form, which takes only number or string arguments, but was ` +
      `called with a ${type} argument. Pass numbers or strings, or leave out \`many\` in definePrimitive().`,
  );
}
