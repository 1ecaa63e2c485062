// A Modbus TCP server for simulators: units backed by register banks on the production server core
// (adapters/modbus/server: MBAP framing, function codes 1-6, 8, 15, 16, 23, exceptions), plus test
// hooks to stop/start on the same port, inject faults and see requests.
import { type Clock, systemClock } from '../core/clock.ts';
import { ModbusTcpListener, type ServerReply } from '../adapters/modbus/server/tcp.ts';
import { exceptionResponse, handlePdu, type ModbusDataModel, ModbusServerException, responseException } from '../adapters/modbus/server/pdu.ts';
import type { RegisterBank } from './register-bank.ts';

export { RegisterBank } from './register-bank.ts';

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

export class ModbusTcpServer {
  readonly #options: ModbusTcpServerOptions;
  readonly #listener: ModbusTcpListener;
  #faults: Fault[] = [];
  /** Recent requests, oldest first (test hook). */
  readonly requests: RequestRecord[] = [];
  /** Requests received since construction, including faulted ones. */
  requestCount = 0;
  /** Turnaround before each answer (test hook; starts as `options.responseDelayMs`). */
  responseDelayMs: number;
  /** While true, requests are received but never answered, connections stay open (a hung device). */
  hung = false;

  constructor(options: ModbusTcpServerOptions) {
    this.#options = options;
    this.responseDelayMs = options.responseDelayMs ?? 0;
    this.#listener = new ModbusTcpListener({ host: options.host, port: options.port ?? 502, handle: (unit, pdu) => this.#handle(unit, pdu) });
  }

  get host(): string {
    return this.#listener.host;
  }

  /** The port listened on (the ephemeral one once started with port 0). */
  get port(): number {
    return this.#listener.port;
  }

  get listening(): boolean {
    return this.#listener.listening;
  }

  /** Starts listening (idempotent); a restart reuses the port of the first start. */
  start(): Promise<void> {
    return this.#listener.start();
  }

  /** Stops listening and drops every connection, like a PLC going off the network. */
  stop(): Promise<void> {
    return this.#listener.stop();
  }

  /** Injects a fault for matching requests (`times` of them, default all) until `clearFaults()`. */
  fault(fault: Fault): void {
    this.#faults.push({ ...fault });
  }

  clearFaults(): void {
    this.#faults = [];
  }

  /**
   * Answers one request PDU exactly as the TCP side would (faults, hang, delay included), for other
   * transports of the same device (an RTU line). Null: no answer.
   */
  handle(unit: number, pdu: Uint8Array): ServerReply | Promise<ServerReply> {
    return this.#handle(unit, pdu);
  }

  #handle(unit: number, pdu: Uint8Array): ServerReply | Promise<ServerReply> {
    const fc = pdu[0];
    const pv = new DataView(pdu.buffer, pdu.byteOffset, pdu.byteLength);
    const address = pdu.length >= 3 ? pv.getUint16(1) : 0;
    const count = fc === 5 || fc === 6 ? 1 : pdu.length >= 5 ? pv.getUint16(3) : 0;
    const record: RequestRecord = { unit, fc, address, count };
    this.requestCount++;
    this.requests.push(record);
    if (this.requests.length > (this.#options.keepRequests ?? 1000)) this.requests.shift();

    if (this.hung) return null;
    const fault = this.#takeFault(record);
    if (fault?.kind === 'timeout') return null;
    if (fault?.kind === 'disconnect') return 'disconnect';
    let response: Uint8Array;
    const bank = this.#options.units.get(unit);
    if (fault?.kind === 'exception') response = exceptionResponse(fc, fault.code);
    else if (!bank) response = exceptionResponse(fc, 11);
    else response = handlePdu(pdu, this.#model(unit, bank, record)) as Uint8Array; // banks write synchronously
    const code = responseException(response);
    if (code !== null) record.exception = code;
    const delay = this.responseDelayMs;
    if (delay <= 0) return response;
    return new Promise((resolve) => (this.#options.clock ?? systemClock).setTimeout(() => resolve(response), delay));
  }

  /** The bank as seen by one request: records what was written and tells `onWrite`. */
  #model(unit: number, bank: RegisterBank, record: RequestRecord): ModbusDataModel {
    return {
      read: (table, address, count) => bank.read(table, address, count),
      write: (table, address, values) => {
        bank.write(table, address, values);
        record.values = values;
        this.#options.onWrite?.(unit, table, address, values.length);
      },
    };
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
}

// Kept for callers that build exceptions by hand.
export { ModbusServerException };
