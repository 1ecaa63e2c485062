// Watches a Modbus TCP client socket for frames no device may send: an MBAP length field past
// the 254 bytes of a 260-byte ADU (or below 2) or a protocol id other than 0. modbus-serial would
// otherwise wait for up to 64 KiB per frame, and a broken peer could keep it waiting forever.
import type { Socket } from 'node:net';

/** Modbus TCP ADU limit (MBAP header 7 + PDU 253). */
export const MAX_ADU_BYTES = 260;
const HEADER = 6; // transaction id, protocol id, length; the unit id is counted in the length

/**
 * Parses the stream of frame headers alongside modbus-serial (registered before it, so it sees
 * each chunk first) and, on a bad header, destroys the socket and calls `onViolation` once with
 * what was wrong and how many bytes the socket had read.
 */
export class MbapGuard {
  #header = Buffer.alloc(0);
  #bodyLeft = 0;
  #tripped = false;

  constructor(private readonly socket: Socket, private readonly onViolation: (what: string, bytesRead: number) => void) {
    socket.on('data', (chunk: Buffer) => this.#feed(chunk));
  }

  #feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.#tripped) {
      if (this.#bodyLeft > 0) {
        const take = Math.min(this.#bodyLeft, chunk.length - at);
        this.#bodyLeft -= take;
        at += take;
        continue;
      }
      const need = HEADER - this.#header.length;
      this.#header = Buffer.concat([this.#header, chunk.subarray(at, at + need)]);
      at += Math.min(need, chunk.length - at);
      if (this.#header.length < HEADER) return;
      const protocol = this.#header.readUInt16BE(2);
      const length = this.#header.readUInt16BE(4);
      this.#header = Buffer.alloc(0);
      if (protocol !== 0) return this.#trip(`frame with protocol id ${protocol} (Modbus TCP is 0)`);
      if (length < 2 || length > MAX_ADU_BYTES - HEADER) return this.#trip(`frame with MBAP length ${length} (an ADU of ${length + HEADER} bytes)`);
      this.#bodyLeft = length;
    }
  }

  #trip(what: string): void {
    this.#tripped = true;
    const read = this.socket.bytesRead;
    this.socket.destroy();
    this.onViolation(what, read);
  }
}
