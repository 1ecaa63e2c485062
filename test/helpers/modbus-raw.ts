// A bare Modbus TCP socket for tests that must see the wire itself: what bytes came back (an
// exception code), whether anything came back at all (a hung device), and whether the peer closed.
import { connect, type Socket } from 'node:net';

export class RawModbus {
  readonly socket: Socket;
  #buffer = Buffer.alloc(0);
  #tid = 1;
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, d]).subarray(-4096);
    });
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }

  static connect(host: string, port: number): Promise<RawModbus> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port }, () => {
        s.off('error', reject);
        resolve(new RawModbus(s));
      });
      s.once('error', reject);
    });
  }

  /** Sends one request PDU (function code first) framed with MBAP. */
  send(unit: number, pdu: number[]): void {
    const frame = Buffer.alloc(7 + pdu.length);
    frame.writeUInt16BE(this.#tid++ & 0xffff, 0);
    frame.writeUInt16BE(0, 2);
    frame.writeUInt16BE(pdu.length + 1, 4);
    frame[6] = unit;
    Buffer.from(pdu).copy(frame, 7);
    this.socket.write(frame);
  }

  /** Response PDUs received so far (MBAP stripped), oldest first. */
  responses(): number[][] {
    const out: number[][] = [];
    let b = this.#buffer;
    while (b.length >= 7 && b.length >= 6 + b.readUInt16BE(4)) {
      const len = b.readUInt16BE(4);
      out.push([...b.subarray(7, 6 + len)]);
      b = b.subarray(6 + len);
    }
    return out;
  }

  close(): void {
    this.socket.destroy();
  }
}
