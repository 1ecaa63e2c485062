// Byte limits on what a PostgreSQL server sends to node-postgres: puts a PgMessageScanner in front of
// a client's socket and, past a limit, destroys the socket with a PeerLimitError. The query in flight
// fails with that error; a pool drops the client and the next query opens a new connection.
import type { Duplex } from 'node:stream';
import type { Client, ClientConfig } from 'pg';
import { PeerLimitError } from '../../core/peer-limits.ts';
import type { JsonSchema } from '../../core/schema.ts';
import { DEFAULT_PG_LIMITS, type PgByteLimits, PgMessageScanner } from './message-scanner.ts';

export interface PgGuardOptions {
  /** For messages: `postgresql 127.0.0.1:5432/db` (never the connection string: it holds the password). */
  peer: string;
  limits?: Partial<PgByteLimits>;
  /** Called once per violation, after the socket was destroyed; `setting` is the config key that raises the limit. */
  onLimit?: (err: PeerLimitError, setting: keyof PgByteLimits) => void;
}

/** The limits with defaults for those unset (undefined included). */
export function resolvePgLimits(limits: Partial<PgByteLimits> = {}): PgByteLimits {
  return {
    maxMessageBytes: limits.maxMessageBytes ?? DEFAULT_PG_LIMITS.maxMessageBytes,
    maxResultBytes: limits.maxResultBytes ?? DEFAULT_PG_LIMITS.maxResultBytes,
  };
}

/**
 * Scans one socket ahead of the driver. Not a prepended 'data' listener: the driver's listener would
 * still get the offending chunk in the same emit, and a chunk holding a whole oversized message and
 * its ReadyForQuery would let the query succeed. So the socket's own `emit` is wrapped: a chunk past
 * a limit never reaches the driver, the socket is destroyed with the error and the query fails.
 */
export function guardPgStream(stream: Duplex, options: PgGuardOptions): void {
  const scanner = new PgMessageScanner(resolvePgLimits(options.limits));
  let tripped = false;
  const emit = stream.emit;
  const guarded = function (this: Duplex, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'data') {
      if (tripped) return false;
      const bad = scanner.feed(args[0] as Uint8Array);
      if (bad) {
        tripped = true;
        const read = (stream as Partial<{ bytesRead: number }>).bytesRead;
        const err = new PeerLimitError(options.peer, bad.limit, `${bad.what}${read !== undefined ? ` (${read} bytes read on this connection)` : ''}`);
        // The driver fails the query in flight with this error, then reports the closed connection.
        stream.destroy(err);
        options.onLimit?.(err, bad.setting);
        return false;
      }
    }
    return emit.call(this, event, ...args);
  };
  stream.emit = guarded as Duplex['emit'];
}

type PgConnection = Client['connection'] & { ssl?: unknown };

/**
 * Guards a client from its first byte: call before `connect()`. Over TLS the guard starts on the TLS
 * socket (the plain one carries only the one-byte SSL answer; TLS bounds its own records). A
 * destroyed socket makes the client emit 'error' besides failing its query: the no-op listener keeps
 * that from crashing the process (a pool removes its own listener while a client is checked out).
 */
export function guardPgClient(client: Client, options: PgGuardOptions): void {
  client.on('error', () => {});
  const con = client.connection as PgConnection;
  if (!con.ssl) guardPgStream(con.stream, options);
  else con.once('sslconnect', () => guardPgStream(con.stream, options));
}

/**
 * A client class for `new pg.Pool({ Client })`: every connection the pool opens is guarded from its
 * first byte (the pool's 'connect' event would come only after authentication).
 */
export function guardedClient(Base: typeof Client, options: PgGuardOptions): typeof Client {
  return class GuardedClient extends Base {
    constructor(config?: string | ClientConfig) {
      super(config);
      guardPgClient(this, options);
    }
  };
}

/** Config properties for a plugin that talks to PostgreSQL (defaults: DEFAULT_PG_LIMITS). */
export const pgLimitProperties: Record<keyof PgByteLimits, JsonSchema> = {
  maxMessageBytes: {
    type: 'integer',
    minimum: 1024,
    default: DEFAULT_PG_LIMITS.maxMessageBytes,
    description: 'Largest single message read from PostgreSQL (one result row, one notice), in bytes; a bigger one closes the connection, fails the query and counts in fieldgate_peer_reply_oversize_total.',
  },
  maxResultBytes: {
    type: 'integer',
    minimum: 1024,
    default: DEFAULT_PG_LIMITS.maxResultBytes,
    description: 'Most bytes read from PostgreSQL for one query result; past it the connection is closed, the query fails and it counts in fieldgate_peer_reply_oversize_total.',
  },
};
