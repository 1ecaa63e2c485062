// A simulated Siemens S7 CPU on loopback, wire level: TPKT (RFC 1006), COTP connection request and
// confirm, S7 setup communication (PDU size negotiation), read var and write var on DB, I, Q, M and
// peripheral areas — so the production nodes7 client is what tests exercise. Test hooks: stop/start
// on the same port, faults (drop, no answer, delay), a request log.
import * as net from 'node:net';
import { type Clock, systemClock } from '../core/clock.ts';
import { S7Memory, type S7MemoryOptions, S7ReturnCode } from './s7-memory.ts';

export { S7AreaCode, S7Memory, S7ReturnCode } from './s7-memory.ts';

/** One item of a read or write request as the simulator saw it. */
export interface S7ItemRecord {
  area: number;
  db: number;
  byte: number;
  bit: number;
  /** Transport size of the request (1 bit, 2 byte, 4 word, 6 dword, 8 real, ...). */
  transport: number;
  count: number;
  /** Return code answered: 0xff success, 0x05 invalid address, 0x0a object does not exist, ... */
  code: number;
}

export interface S7RequestRecord {
  fn: 'connect' | 'setup' | 'read' | 'write' | 'other';
  items: S7ItemRecord[];
  /** Setup: the PDU size agreed. Connect: the rack and slot asked for. */
  pduSize?: number;
  rack?: number;
  slot?: number;
}

/** A fault on the next matching S7 jobs (`times` of them, default all until `clearFaults()`). */
export type S7Fault =
  | { kind: 'drop'; fn?: 'read' | 'write'; times?: number } // close the connection instead of answering
  | { kind: 'timeout'; fn?: 'read' | 'write'; times?: number } // never answer
  | { kind: 'refuse'; fn?: 'read' | 'write'; code: number; times?: number }; // every item answers `code`

export interface S7ServerOptions extends S7MemoryOptions {
  host?: string;
  /** 0 picks a free port on the first start; later starts reuse it. Default 0. */
  port?: number;
  /** The CPU's rack and slot; a connection asking for another is refused like a real CPU does. Default 0 / 1. */
  rack?: number;
  slot?: number;
  /** Largest PDU this CPU accepts (S7-300: 240, S7-1500: 960). Default 480. */
  pduSize?: number;
  /** Shared memory (e.g. one the plant model writes). Default a new one from the options. */
  memory?: S7Memory;
  /** Turnaround before each answer, in ms of `clock`. Default 0. */
  responseDelayMs?: number;
  clock?: Clock;
  /** Kept in `requests`; oldest dropped. Default 1000. */
  keepRequests?: number;
  /** Called after each successful write item, e.g. to react like the PLC program. */
  onWrite?: (item: S7ItemRecord) => void;
}

export class S7Server {
  readonly memory: S7Memory;
  readonly host: string;
  readonly rack: number;
  readonly slot: number;
  readonly pduSize: number;
  /** Recent requests, oldest first (test hook). */
  readonly requests: S7RequestRecord[] = [];
  /** Turnaround before each answer (test hook). */
  responseDelayMs: number;
  readonly #options: S7ServerOptions;
  readonly #clock: Clock;
  readonly #sockets = new Set<net.Socket>();
  #faults: S7Fault[] = [];
  #server: net.Server | null = null;
  #port: number;

  constructor(options: S7ServerOptions = {}) {
    this.#options = options;
    this.memory = options.memory ?? new S7Memory(options);
    this.host = options.host ?? '127.0.0.1';
    this.rack = options.rack ?? 0;
    this.slot = options.slot ?? 1;
    this.pduSize = options.pduSize ?? 480;
    this.responseDelayMs = options.responseDelayMs ?? 0;
    this.#clock = options.clock ?? systemClock;
    this.#port = options.port ?? 0;
  }

  /** The port listened on (the ephemeral one once started with port 0). */
  get port(): number {
    return this.#port;
  }

  get address(): string {
    return `${this.host}:${this.#port}`;
  }

  get listening(): boolean {
    return this.#server !== null;
  }

  /** Open connections (test hook). */
  get connections(): number {
    return this.#sockets.size;
  }

  /** Starts listening (idempotent); a restart reuses the port of the first start. */
  async start(): Promise<void> {
    if (this.#server) return;
    const server = net.createServer((socket) => this.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#port = (server.address() as net.AddressInfo).port;
    this.#server = server;
  }

  /** Stops listening and drops every connection, like a PLC going off the network. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    this.dropConnections();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  close(): Promise<void> {
    return this.stop();
  }

  /** Closes every open connection now; the server keeps listening. */
  dropConnections(): void {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }

  fault(fault: S7Fault): void {
    this.#faults.push({ ...fault });
  }

  clearFaults(): void {
    this.#faults = [];
  }

  #accept(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('close', () => this.#sockets.delete(socket));
    const session = { pdu: 0, cotp: false };
    let buf = new Uint8Array(0);
    socket.on('data', (chunk: Uint8Array) => {
      const next = new Uint8Array(buf.length + chunk.length);
      next.set(buf);
      next.set(chunk, buf.length);
      buf = next;
      while (buf.length >= 4) {
        if (buf[0] !== 3) return void socket.destroy(); // not TPKT
        const len = (buf[2] << 8) | buf[3];
        if (len < 7) return void socket.destroy();
        if (buf.length < len) break;
        const frame = buf.subarray(0, len);
        buf = buf.slice(len);
        this.#frame(socket, session, frame);
      }
    });
  }

  #frame(socket: net.Socket, session: { pdu: number; cotp: boolean }, f: Uint8Array): void {
    const cotpType = f[5];
    if (cotpType === 0xe0) return this.#connectRequest(socket, session, f);
    if (cotpType === 0x80) return void socket.end(); // disconnect request
    if (cotpType !== 0xf0 || !session.cotp) return void socket.destroy();
    const s7 = f.subarray(7);
    if (s7[0] !== 0x32 || s7[1] !== 0x01 || s7.length < 10) return void socket.destroy();
    const view = new DataView(s7.buffer, s7.byteOffset, s7.byteLength);
    const ref = view.getUint16(4);
    const paramLen = view.getUint16(6);
    const params = s7.subarray(10, 10 + paramLen);
    const data = s7.subarray(10 + paramLen);
    const fn = params[0];
    if (fn === 0xf0) {
      const asked = new DataView(params.buffer, params.byteOffset).getUint16(6);
      session.pdu = Math.min(asked, this.pduSize);
      this.#log({ fn: 'setup', items: [], pduSize: session.pdu });
      const p = new Uint8Array(8);
      const pv = new DataView(p.buffer);
      p[0] = 0xf0;
      pv.setUint16(2, 1);
      pv.setUint16(4, 1);
      pv.setUint16(6, session.pdu);
      return this.#send(socket, ack(ref, p, new Uint8Array(0)));
    }
    if ((fn !== 0x04 && fn !== 0x05) || session.pdu === 0) {
      this.#log({ fn: 'other', items: [] });
      return this.#send(socket, ack(ref, params.subarray(0, 2), new Uint8Array(0), 0x81, 0x04)); // function not supported
    }
    const record: S7RequestRecord = { fn: fn === 0x04 ? 'read' : 'write', items: [] };
    this.#log(record);
    const fault = this.#takeFault(record.fn as 'read' | 'write');
    if (fault?.kind === 'drop') return void socket.destroy();
    if (fault?.kind === 'timeout') return;
    const reply = fn === 0x04 ? this.#read(ref, params, record, session.pdu, fault) : this.#write(ref, params, data, record, fault);
    this.#send(socket, reply);
  }

  #connectRequest(socket: net.Socket, session: { cotp: boolean }, f: Uint8Array): void {
    // Parameters after the fixed part (length byte, type, dst ref, src ref, class): code, length, value.
    let dstTsap: Uint8Array | undefined;
    let srcTsap: Uint8Array | undefined;
    for (let i = 11; i + 1 < 5 + f[4];) {
      const code = f[i];
      const len = f[i + 1];
      if (code === 0xc2) dstTsap = f.slice(i + 2, i + 2 + len);
      if (code === 0xc1) srcTsap = f.slice(i + 2, i + 2 + len);
      i += 2 + len;
    }
    const rackSlot = dstTsap?.[1] ?? 0;
    const rack = rackSlot >> 5;
    const slot = rackSlot & 0x1f;
    this.#log({ fn: 'connect', items: [], rack, slot });
    if (!dstTsap || rack !== this.rack || slot !== this.slot) return void socket.destroy(); // a CPU not at that rack/slot answers nothing useful
    session.cotp = true;
    const cc = new Uint8Array([3, 0, 0, 22, 17, 0xd0, f[8], f[9], 0x00, 0x01, 0x00, 0xc0, 1, 0x0a, 0xc1, 2, ...(srcTsap ?? [1, 0]).slice(0, 2), 0xc2, 2, dstTsap[0], dstTsap[1]]);
    this.#send(socket, cc);
  }

  #read(ref: number, params: Uint8Array, record: S7RequestRecord, pdu: number, fault?: S7Fault): Uint8Array {
    const count = params[1];
    const parts: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const spec = parseItem(params, 2 + i * 12);
      const last = i === count - 1;
      let code: number = spec ? S7ReturnCode.OK : S7ReturnCode.DATA_TYPE;
      let out: Uint8Array = new Uint8Array([0, 0, 0, 0]);
      if (spec) {
        const size = elementSize(spec.transport);
        if (size === 0 || (spec.transport === 1 && spec.count !== 1)) code = S7ReturnCode.DATA_TYPE;
        else if (fault?.kind === 'refuse') code = fault.code;
        else {
          const region = this.memory.region(spec.area, spec.db, spec.byte, size * spec.count, false);
          if (typeof region === 'number') code = region;
          else out = readItem(spec.transport, spec.bit, region, last);
        }
        record.items.push({ ...spec, code });
      }
      if (code !== S7ReturnCode.OK) out = new Uint8Array([code, 0, 0, 0]);
      parts.push(out);
    }
    const data = concat(parts);
    if (12 + 2 + data.length > pdu) return ack(ref, new Uint8Array([0x04, count]), new Uint8Array(0), 0x85, 0x00); // answer would not fit the PDU
    return ack(ref, new Uint8Array([0x04, count]), data);
  }

  #write(ref: number, params: Uint8Array, data: Uint8Array, record: S7RequestRecord, fault?: S7Fault): Uint8Array {
    const count = params[1];
    const codes = new Uint8Array(count);
    let p = 0;
    for (let i = 0; i < count; i++) {
      const spec = parseItem(params, 2 + i * 12);
      const transport = data[p + 1];
      const len = (data[p + 2] << 8) | data[p + 3];
      const bytes = transport === 0x03 || transport === 0x04 || transport === 0x05 ? Math.ceil(len / 8) : len;
      const value = data.subarray(p + 4, p + 4 + bytes);
      p += 4 + bytes + (bytes % 2 && i < count - 1 ? 1 : 0);
      let code: number = S7ReturnCode.OK;
      if (!spec || elementSize(spec.transport) === 0 || value.length !== bytes) code = S7ReturnCode.DATA_TYPE;
      else if (fault?.kind === 'refuse') code = fault.code;
      else {
        const isBit = spec.transport === 1;
        const region = this.memory.region(spec.area, spec.db, spec.byte, isBit ? 1 : bytes, true);
        if (typeof region === 'number') code = region;
        else if (isBit) region[0] = value[0] & 1 ? region[0] | (1 << spec.bit) : region[0] & ~(1 << spec.bit);
        else region.set(value);
      }
      codes[i] = code;
      if (spec) {
        const item = { ...spec, code };
        record.items.push(item);
        if (code === S7ReturnCode.OK) this.#options.onWrite?.(item);
      }
    }
    return ack(ref, new Uint8Array([0x05, count]), codes);
  }

  #send(socket: net.Socket, frame: Uint8Array): void {
    const delay = this.responseDelayMs;
    const write = () => {
      if (!socket.destroyed) socket.write(frame);
    };
    if (delay > 0) this.#clock.setTimeout(write, delay);
    else write();
  }

  #log(r: S7RequestRecord): void {
    this.requests.push(r);
    if (this.requests.length > (this.#options.keepRequests ?? 1000)) this.requests.shift();
  }

  #takeFault(fn: 'read' | 'write'): S7Fault | undefined {
    const i = this.#faults.findIndex((f) => f.fn === undefined || f.fn === fn);
    if (i < 0) return undefined;
    const fault = this.#faults[i];
    if (fault.times !== undefined && --fault.times <= 0) this.#faults.splice(i, 1);
    return fault;
  }
}

interface ItemSpec {
  transport: number;
  count: number;
  db: number;
  area: number;
  byte: number;
  bit: number;
}

/** A 12-byte item of the S7ANY syntax (0x12 0x0a 0x10 ...), or null when it is something else. */
function parseItem(p: Uint8Array, at: number): ItemSpec | null {
  if (p[at] !== 0x12 || p[at + 1] !== 0x0a || p[at + 2] !== 0x10) return null;
  const address = (p[at + 9] << 16) | (p[at + 10] << 8) | p[at + 11];
  return { transport: p[at + 3], count: (p[at + 4] << 8) | p[at + 5], db: (p[at + 6] << 8) | p[at + 7], area: p[at + 8], byte: address >> 3, bit: address & 7 };
}

/** Bytes per element of a request transport size; 0 = not supported here (timers, counters, ...). */
function elementSize(transport: number): number {
  return ({ 1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 4, 8: 4 } as Record<number, number>)[transport] ?? 0;
}

/** One data item of a read answer: return code, answer transport size, length, data, fill byte. */
function readItem(transport: number, bit: number, region: Uint8Array, last: boolean): Uint8Array {
  const isBit = transport === 1;
  const bytes = isBit ? new Uint8Array([(region[0] >> bit) & 1]) : region;
  // Answer sizes: bit 0x03 and byte/word/dword 0x04 and int 0x05 give the length in bits, real 0x07 in bytes.
  const answer = isBit ? 0x03 : transport === 8 ? 0x07 : transport === 5 || transport === 7 ? 0x05 : 0x04;
  const length = isBit ? 1 : answer === 0x07 ? bytes.length : bytes.length * 8;
  const fill = bytes.length % 2 && !last ? 1 : 0;
  const out = new Uint8Array(4 + bytes.length + fill);
  out[0] = S7ReturnCode.OK;
  out[1] = answer;
  out[2] = length >> 8;
  out[3] = length & 0xff;
  out.set(bytes, 4);
  return out;
}

/** A TPKT + COTP DT frame carrying an S7 ack-data PDU. */
function ack(ref: number, params: Uint8Array, data: Uint8Array, errorClass = 0, errorCode = 0): Uint8Array {
  const len = 4 + 3 + 12 + params.length + data.length;
  const f = new Uint8Array(len);
  const v = new DataView(f.buffer);
  f.set([3, 0], 0);
  v.setUint16(2, len);
  f.set([2, 0xf0, 0x80, 0x32, 0x03, 0, 0], 4);
  v.setUint16(11, ref);
  v.setUint16(13, params.length);
  v.setUint16(15, data.length);
  f[17] = errorClass;
  f[18] = errorCode;
  f.set(params, 19);
  f.set(data, 19 + params.length);
  return f;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
