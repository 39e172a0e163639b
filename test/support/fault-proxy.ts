/**
 * A loopback TCP proxy in front of a Redis server, for fault tests: it forwards both ways until told to lose
 * the server's replies (Redis runs the commands, the client never hears back: the connection looks alive but
 * is silent), to cut every connection, or to drop a connection as soon as it says who it is (a connect that fails
 * before the client is ready). A connection can be singled out by what its client sent (e.g. the name
 * `cashews:invalidations` of a client-side invalidation connection).
 */
import { createServer, createConnection, type Server, type Socket } from 'node:net';

type Mode = 'forward' | 'lose';

interface Link {
  client: Socket;
  server: Socket;
  /** Everything the client sent so far (first 4 KiB), to recognise a connection. */
  sent: string;
  mode: Mode;
}

export interface FaultProxy {
  readonly port: number;
  readonly url: string;
  /** Connections open now. */
  readonly size: number;
  /** Server replies discarded so far (chunks as they arrived): proof that a fault hit commands in flight. */
  readonly lostReplies: number;
  /**
   * From now on, discards the server's replies on the matching connections (all by default), including
   * connections opened later once their client has sent something that matches.
   */
  loseReplies(match?: (sent: string) => boolean): void;
  /** Forwards replies again on every connection (those lost meanwhile stay lost). */
  heal(): void;
  /**
   * Destroys the next `count` connections whose client sends something that matches, as soon as it does (during
   * the client's handshake: its first connect fails). Later matching connections are forwarded as usual.
   */
  dropConnections(match: (sent: string) => boolean, count: number): void;
  /** Connections destroyed by {@link dropConnections} so far. */
  readonly dropped: number;
  /** Destroys every open connection (clients see a reset; new connections are accepted). */
  cutAll(): void;
  close(): Promise<void>;
}

const MARK_LIMIT = 4096;

export async function startFaultProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<FaultProxy> {
  const links = new Set<Link>();
  let lostReplies = 0;
  let defaultMode: { mode: Mode; match?: (sent: string) => boolean } = { mode: 'forward' };
  let drop: { match: (sent: string) => boolean; left: number } | undefined;
  let dropped = 0;

  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: targetHost, port: targetPort });
    const link: Link = { client, server: upstream, sent: '', mode: 'forward' };
    links.add(link);
    const end = () => {
      links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => {
      if (link.sent.length < MARK_LIMIT) link.sent += chunk.toString('latin1').slice(0, MARK_LIMIT);
      if (drop && drop.left > 0 && drop.match(link.sent)) {
        drop.left--;
        dropped++;
        end();
        return;
      }
      // A new connection inherits the fault once it has said who it is.
      if (defaultMode.mode !== 'forward' && (!defaultMode.match || defaultMode.match(link.sent))) {
        link.mode = defaultMode.mode;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (link.mode === 'forward') client.write(chunk);
      else lostReplies++;
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const apply = (mode: Mode, match?: (sent: string) => boolean) => {
    defaultMode = { mode, match };
    for (const link of links) if (!match || match(link.sent)) link.mode = mode;
  };

  const cutAll = () => {
    for (const link of [...links]) {
      link.client.destroy();
      link.server.destroy();
    }
  };

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get size() {
      return links.size;
    },
    get lostReplies() {
      return lostReplies;
    },
    loseReplies: (match) => apply('lose', match),
    heal: () => apply('forward'),
    dropConnections: (match, count) => {
      drop = { match, left: count };
    },
    get dropped() {
      return dropped;
    },
    cutAll,
    async close() {
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
