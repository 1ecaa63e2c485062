// Streaming scan of PostgreSQL backend message framing (1 type byte + a 4-byte big-endian length that
// counts itself) for size limits. node-postgres buffers a message until it is whole and a query's rows
// until ReadyForQuery, whatever their size; this sees each chunk first and says when either would
// pass its limit. It keeps no message data: its own memory is one 5-byte header.

export interface PgByteLimits {
  /** Largest single backend message (one DataRow, one notice, ...), header included. */
  maxMessageBytes: number;
  /** Most bytes between two ReadyForQuery messages: one query's whole result (or the start-up). */
  maxResultBytes: number;
}

export const DEFAULT_PG_LIMITS: PgByteLimits = { maxMessageBytes: 1024 * 1024, maxResultBytes: 64 * 1024 * 1024 };

/** What went over a limit, for a PeerLimitError. */
export interface PgLimitViolation {
  /** Which limit: the config key that raises it. */
  setting: keyof PgByteLimits;
  limit: number;
  what: string;
}

const NAMES: Record<string, string> = {
  D: 'DataRow', T: 'RowDescription', C: 'CommandComplete', E: 'ErrorResponse', N: 'NoticeResponse',
  A: 'NotificationResponse', Z: 'ReadyForQuery', d: 'CopyData', S: 'ParameterStatus', R: 'Authentication',
  K: 'BackendKeyData', t: 'ParameterDescription', V: 'FunctionCallResponse',
};

const HEADER = 5;

/** Name of a backend message type byte, as the protocol documentation calls it. */
export function pgMessageName(type: number): string {
  const c = String.fromCharCode(type);
  const name = NAMES[c];
  return /^[\x21-\x7e]$/.test(c) ? `${name ?? 'message'} ('${c}')` : `message (type byte ${type})`;
}

export class PgMessageScanner {
  readonly #header = new Uint8Array(HEADER);
  #have = 0;
  #type = 0;
  #bodyLeft = 0;
  #resultBytes = 0;

  constructor(readonly limits: PgByteLimits) {}

  /** Bytes counted towards the current query's result so far. */
  get resultBytes(): number {
    return this.#resultBytes;
  }

  /** Scans one chunk; a violation ends the scan (the caller closes the link). */
  feed(chunk: Uint8Array): PgLimitViolation | null {
    let at = 0;
    while (at < chunk.length) {
      if (this.#bodyLeft > 0) {
        const take = Math.min(this.#bodyLeft, chunk.length - at);
        this.#bodyLeft -= take;
        at += take;
        if (this.#bodyLeft === 0) this.#messageDone();
        continue;
      }
      const take = Math.min(HEADER - this.#have, chunk.length - at);
      this.#header.set(chunk.subarray(at, at + take), this.#have);
      this.#have += take;
      at += take;
      if (this.#have < HEADER) return null;
      this.#have = 0;
      const bad = this.#startMessage();
      if (bad) return bad;
    }
    return null;
  }

  // Checked at the header, before any of the body is read: the declared size is enough to refuse.
  #startMessage(): PgLimitViolation | null {
    this.#type = this.#header[0]!;
    const length = new DataView(this.#header.buffer).getUint32(1);
    const name = pgMessageName(this.#type);
    if (length < 4) return { setting: 'maxMessageBytes', limit: this.limits.maxMessageBytes, what: `${name} with a length field of ${length} (below 4: not PostgreSQL framing)` };
    const size = 1 + length;
    if (size > this.limits.maxMessageBytes) return { setting: 'maxMessageBytes', limit: this.limits.maxMessageBytes, what: `${name} of ${size} bytes` };
    this.#resultBytes += size;
    if (this.#resultBytes > this.limits.maxResultBytes) {
      return { setting: 'maxResultBytes', limit: this.limits.maxResultBytes, what: `query result of ${this.#resultBytes} bytes so far (at a ${name} of ${size} bytes)` };
    }
    this.#bodyLeft = length - 4;
    if (this.#bodyLeft === 0) this.#messageDone();
    return null;
  }

  #messageDone(): void {
    if (this.#type === 0x5a) this.#resultBytes = 0; // 'Z' ReadyForQuery: the query is over
  }
}
