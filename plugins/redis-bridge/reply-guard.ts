// A byte limit on Redis replies. ioredis (redis-parser) reads a bulk string or an array of any
// declared size, so a broken or hostile server answering `$999999999` and then bytes without end
// would grow the gateway's memory until it dies. This scans the RESP2 stream beside the parser
// and closes the connection as soon as one reply (or one header line) would pass the limit.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { PeerLimitError } from '../../core/peer-limits.ts';

/**
 * Streaming RESP2 scanner: tracks only sizes (never keeps reply data), so its own memory is one
 * header line at most. `feed` returns a description of the violation, or null.
 */
export class RespSizeScanner {
  #line = '';
  #bulkLeft = -1; // bytes of bulk payload + CRLF still to skip; -1 = reading a header line
  #pending: number[] = []; // elements still expected at each open array level
  #replyBytes = 0;
  readonly #decoder = new TextDecoder();

  constructor(readonly limit: number) {}

  feed(chunk: Uint8Array): string | null {
    let at = 0;
    while (at < chunk.length) {
      if (this.#bulkLeft >= 0) {
        const take = Math.min(this.#bulkLeft, chunk.length - at);
        this.#bulkLeft -= take;
        this.#replyBytes += take;
        at += take;
        if (this.#bulkLeft === 0) {
          this.#bulkLeft = -1;
          this.#elementDone();
        }
        continue;
      }
      const nl = chunk.indexOf(10, at);
      const end = nl < 0 ? chunk.length : nl + 1;
      this.#replyBytes += end - at;
      this.#line += this.#decoder.decode(chunk.subarray(at, end));
      at = end;
      if (this.#replyBytes > this.limit) return `reply of more than ${this.#replyBytes} bytes`;
      if (nl < 0) continue;
      const line = this.#line.replace(/\r?\n$/, '');
      this.#line = '';
      const bad = this.#header(line);
      if (bad) return bad;
    }
    return this.#replyBytes > this.limit ? `reply of more than ${this.#replyBytes} bytes` : null;
  }

  #header(line: string): string | null {
    const type = line[0];
    const n = Number(line.slice(1));
    if (type === '$') {
      if (n < 0) return this.#elementDone(), null;
      if (this.#replyBytes + n > this.limit) return `bulk string of ${n} bytes`;
      this.#bulkLeft = n + 2;
      return null;
    }
    if (type === '*') {
      if (n <= 0) return this.#elementDone(), null;
      // Each element takes at least 3 bytes (":0\r\n" is 4), so a count this large cannot fit.
      if (this.#replyBytes + 3 * n > this.limit) return `array of ${n} elements`;
      this.#pending.push(n);
      return null;
    }
    this.#elementDone(); // +simple, -error, :integer
    return null;
  }

  #elementDone(): void {
    while (this.#pending.length) {
      const top = this.#pending.length - 1;
      this.#pending[top]!--;
      if (this.#pending[top]! > 0) return;
      this.#pending.pop();
    }
    this.#replyBytes = 0; // a whole top-level reply is done
  }
}

export interface ReplyGuardOptions {
  /** For messages: `redis redis://127.0.0.1:6379/`. */
  peer: string;
  limit: number;
  /** Called once per violation, after the connection was destroyed. */
  onLimit: (err: PeerLimitError) => void;
}

/** Watches one ioredis connection's socket; call on each 'connect' (a new socket each time). */
export function guardRedisStream(stream: Socket | Duplex, options: ReplyGuardOptions): void {
  const scanner = new RespSizeScanner(options.limit);
  let tripped = false;
  stream.on('data', (chunk: Uint8Array) => {
    if (tripped) return;
    const bad = scanner.feed(chunk);
    if (!bad) return;
    tripped = true;
    const read = (stream as Partial<Socket>).bytesRead;
    stream.destroy();
    options.onLimit(new PeerLimitError(options.peer, options.limit, `${bad}${read !== undefined ? ` (${read} bytes read)` : ''}`));
  });
}
