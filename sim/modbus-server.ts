// A small Modbus TCP server core for simulators (and, later, the persistent modbus-server plugin):
// MBAP framing, function codes 1-6, 8 (echo), 15, 16, 23, exception responses, units backed by
// register banks, and test hooks to stop/start on the same port, inject faults and see requests.
import { createServer, type Server, type Socket } from 'node:net';
import { type Clock, systemClock } from '../core/clock.ts';
import { ModbusServerException, type RegisterBank } from './register-bank.ts';

export { ModbusServerException, RegisterBank } from './register-bank.ts';

export interface RequestRecord {
  unit: number;
  fc: number;
  address: number;
  /** Registers or bits read or written. */
  count: number;
  /** Values written (registers as 0..65535, coils as 0/1). */
  values?: number[];
  /** Exception code answered, if any. */
  exception?: number;
}

/** A match on incoming requests; every given field must match. */
export interface FaultMatch {
  unit?: number;
  fc?: number;
  /** Matches requests whose range includes this address. */
  address?: number;
}

export type Fault =
  | ({ kind: 'timeout' } & FaultMatch & { times?: number })
  | ({ kind: 'exception'; code: number } & FaultMatch & { times?: number })
  | ({ kind: 'disconnect' } & FaultMatch & { times?: number });

export interface ModbusTcpServerOptions {
  host?: string;
  /** 0 picks a free port on the first start; later starts reuse it. */
  port?: number;
  /** Banks by unit id. A request for another unit gets exception 11 (gateway target failed to respond). */
  units: Map<number, RegisterBank>;
  /** Called after every successful write (FC 5, 6, 15, 16, 23), e.g. to react like a PLC program. */
  onWrite?: (unit: number, table: 'holding' | 'coil', address: number, count: number) => void;
  /** Kept in `requests` for tests; the oldest are dropped. Default 1000. */
  keepRequests?: number;
  /** Turnaround before each answer, like a PLC that serves Modbus from its task cycle. Default 0. */
  responseDelayMs?: number;
  /** Clock for `responseDelayMs`. Default the system clock. */
  clock?: Clock;
}

const MAX_READ_REGISTERS = 125;
const MAX_WRITE_REGISTERS = 123;
const MAX_READ_BITS = 2000;
const MAX_WRITE_BITS = 1968;

export class ModbusTcpServer {
  readonly #options: ModbusTcpServerOptions;
  readonly #sockets = new Set<Socket>();
  #server: Server | null = null;
  #port: number;
  #faults: Fault[] = [];
  /** Recent requests, oldest first (test hook). */
  readonly requests: RequestRecord[] = [];
  /** Requests received since construction, including faulted ones. */
  requestCount = 0;
  /** Turnaround before each answer (test hook; starts as `options.responseDelayMs`). */
  responseDelayMs: number;

  constructor(options: ModbusTcpServerOptions) {
    this.#options = options;
    this.#port = options.port ?? 502;
    this.responseDelayMs = options.responseDelayMs ?? 0;
  }

  get host(): string {
    return this.#options.host ?? '127.0.0.1';
  }

  /** The port listened on (the ephemeral one once started with port 0). */
  get port(): number {
    return this.#port;
  }

  get listening(): boolean {
    return this.#server !== null;
  }

  /** Starts listening (idempotent); a restart reuses the port of the first start. */
  async start(): Promise<void> {
    if (this.#server) return;
    const server = createServer((socket) => this.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address && typeof address === 'object') this.#port = address.port;
    this.#server = server;
  }

  /** Stops listening and drops every connection, like a PLC going off the network. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Injects a fault for matching requests (`times` of them, default all) until `clearFaults()`. */
  fault(fault: Fault): void {
    this.#faults.push({ ...fault });
  }

  clearFaults(): void {
    this.#faults = [];
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    let buffer: Uint8Array = new Uint8Array(0);
    socket.on('data', (chunk: Uint8Array) => {
      buffer = concat(buffer, chunk);
      while (buffer.length >= 7) {
        const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
        const length = view.getUint16(4);
        if (length < 2 || length > 254) {
          socket.destroy(); // not Modbus TCP: a real device drops the connection
          return;
        }
        if (buffer.length < 6 + length) break;
        const frame = buffer.subarray(0, 6 + length);
        buffer = buffer.slice(6 + length);
        this.#handle(socket, frame);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#sockets.delete(socket));
  }

  #handle(socket: Socket, frame: Uint8Array): void {
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const tid = view.getUint16(0);
    const unit = frame[6];
    const pdu = frame.subarray(7);
    const fc = pdu[0];
    const pv = new DataView(pdu.buffer, pdu.byteOffset, pdu.byteLength);
    const address = pdu.length >= 3 ? pv.getUint16(1) : 0;
    const count = fc === 5 || fc === 6 ? 1 : pdu.length >= 5 ? pv.getUint16(3) : 0;
    const record: RequestRecord = { unit, fc, address, count };
    this.requestCount++;
    this.requests.push(record);
    if (this.requests.length > (this.#options.keepRequests ?? 1000)) this.requests.shift();

    const fault = this.#takeFault(record);
    if (fault?.kind === 'timeout') return;
    if (fault?.kind === 'disconnect') {
      socket.destroy();
      return;
    }
    let response: Uint8Array;
    try {
      if (fault?.kind === 'exception') throw new ModbusServerException(fault.code);
      response = this.#execute(unit, pdu, record);
    } catch (err) {
      const code = err instanceof ModbusServerException ? err.code : 4;
      record.exception = code;
      response = Uint8Array.of(fc | 0x80, code);
    }
    const out = new Uint8Array(7 + response.length);
    const ov = new DataView(out.buffer);
    ov.setUint16(0, tid);
    ov.setUint16(2, 0);
    ov.setUint16(4, response.length + 1);
    out[6] = unit;
    out.set(response, 7);
    const delay = this.responseDelayMs;
    if (delay <= 0) {
      if (!socket.destroyed) socket.write(out);
      return;
    }
    (this.#options.clock ?? systemClock).setTimeout(() => {
      if (!socket.destroyed) socket.write(out);
    }, delay);
  }

  #takeFault(r: RequestRecord): Fault | undefined {
    const i = this.#faults.findIndex((f) =>
      (f.unit === undefined || f.unit === r.unit) &&
      (f.fc === undefined || f.fc === r.fc) &&
      (f.address === undefined || (f.address >= r.address && f.address < r.address + Math.max(1, r.count))));
    if (i < 0) return undefined;
    const fault = this.#faults[i];
    if (fault.times !== undefined && --fault.times <= 0) this.#faults.splice(i, 1);
    return fault;
  }

  #execute(unit: number, pdu: Uint8Array, record: RequestRecord): Uint8Array {
    const bank = this.#options.units.get(unit);
    if (!bank) throw new ModbusServerException(11);
    const v = new DataView(pdu.buffer, pdu.byteOffset, pdu.byteLength);
    const fc = pdu[0];
    const need = (n: number) => {
      if (pdu.length < n) throw new ModbusServerException(3);
    };
    const { address, count } = record;
    switch (fc) {
      case 1:
      case 2: {
        need(5);
        if (count < 1 || count > MAX_READ_BITS) throw new ModbusServerException(3);
        const bits = bank.readBits(fc === 1 ? 'coil' : 'discrete', address, count);
        const bytes = packBits(bits);
        return Uint8Array.of(fc, bytes.length, ...bytes);
      }
      case 3:
      case 4: {
        need(5);
        if (count < 1 || count > MAX_READ_REGISTERS) throw new ModbusServerException(3);
        return registersResponse(fc, bank.readRegisters(fc === 3 ? 'holding' : 'input', address, count));
      }
      case 5: {
        need(5);
        const raw = v.getUint16(3);
        if (raw !== 0xff00 && raw !== 0x0000) throw new ModbusServerException(3);
        bank.writeBits(address, [raw === 0xff00]);
        record.values = [raw === 0xff00 ? 1 : 0];
        this.#options.onWrite?.(unit, 'coil', address, 1);
        return pdu.slice(0, 5);
      }
      case 6: {
        need(5);
        const value = v.getUint16(3);
        bank.writeRegisters(address, [value]);
        record.values = [value];
        this.#options.onWrite?.(unit, 'holding', address, 1);
        return pdu.slice(0, 5);
      }
      case 8: {
        need(3);
        if (v.getUint16(1) !== 0) throw new ModbusServerException(1); // only "return query data"
        return pdu.slice();
      }
      case 15: {
        need(6);
        const byteCount = pdu[5];
        if (count < 1 || count > MAX_WRITE_BITS || byteCount !== Math.ceil(count / 8) || pdu.length < 6 + byteCount) {
          throw new ModbusServerException(3);
        }
        const bits = unpackBits(pdu.subarray(6, 6 + byteCount), count);
        bank.writeBits(address, bits);
        record.values = bits.map(Number);
        this.#options.onWrite?.(unit, 'coil', address, count);
        return pdu.slice(0, 5);
      }
      case 16: {
        need(6);
        const byteCount = pdu[5];
        if (count < 1 || count > MAX_WRITE_REGISTERS || byteCount !== count * 2 || pdu.length < 6 + byteCount) {
          throw new ModbusServerException(3);
        }
        const values = Array.from({ length: count }, (_, i) => v.getUint16(6 + 2 * i));
        bank.writeRegisters(address, values);
        record.values = values;
        this.#options.onWrite?.(unit, 'holding', address, count);
        return pdu.slice(0, 5);
      }
      case 23: {
        // Read/write multiple registers: the write happens before the read.
        need(10);
        const writeAddress = v.getUint16(5);
        const writeCount = v.getUint16(7);
        const byteCount = pdu[9];
        if (count < 1 || count > MAX_READ_REGISTERS || writeCount < 1 || writeCount > 121 || byteCount !== writeCount * 2 || pdu.length < 10 + byteCount) {
          throw new ModbusServerException(3);
        }
        bank.readRegisters('holding', address, count); // address check before any write
        const values = Array.from({ length: writeCount }, (_, i) => v.getUint16(10 + 2 * i));
        bank.writeRegisters(writeAddress, values);
        record.values = values;
        this.#options.onWrite?.(unit, 'holding', writeAddress, writeCount);
        return registersResponse(fc, bank.readRegisters('holding', address, count));
      }
      default:
        throw new ModbusServerException(1);
    }
  }
}

function registersResponse(fc: number, values: number[]): Uint8Array {
  const out = new Uint8Array(2 + values.length * 2);
  out[0] = fc;
  out[1] = values.length * 2;
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setUint16(2 + 2 * i, x));
  return out;
}

function packBits(bits: boolean[]): number[] {
  const bytes = new Array<number>(Math.ceil(bits.length / 8)).fill(0);
  bits.forEach((b, i) => {
    if (b) bytes[i >> 3] |= 1 << (i & 7);
  });
  return bytes;
}

function unpackBits(bytes: Uint8Array, count: number): boolean[] {
  return Array.from({ length: count }, (_, i) => (bytes[i >> 3] & (1 << (i & 7))) !== 0);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
