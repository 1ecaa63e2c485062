// The ModbusClient over modbus-serial (TCP, or RTU through the native serialport): one request in
// flight per link, writes queued ahead of reads, a deadline on every request, and errors that
// name the link and the request. A timed-out or broken link is closed and reopened on next use,
// so a late answer can never be taken for the reply to a later request.
import type { Clock } from '../../core/clock.ts';
import { createConnection, type Socket } from 'node:net';
import { errorMessage } from '../../core/errors.ts';
import { PeerLimitError } from '../../core/peer-limits.ts';
import { MAX_ADU_BYTES, MbapGuard } from './mbap-guard.ts';
import { requireNodeFor } from '../../core/runtime-info.ts';
import { RequestQueue } from './queue.ts';
import {
  type BitTable,
  describeRange,
  type ModbusClient,
  ModbusExceptionError,
  ModbusLinkError,
  type RegisterTable,
} from './types.ts';

export interface ModbusLinkOptions {
  transport: 'tcp' | 'rtu';
  host?: string;
  port?: number;
  path?: string;
  baudRate?: number;
  parity?: 'none' | 'even' | 'odd';
  dataBits?: 7 | 8;
  stopBits?: 1 | 2;
  timeoutMs?: number;
  /** Called once per frame refused for its size (the `fieldgate_peer_reply_oversize_total` counter). */
  onReplyLimit?: () => void;
}

/** The slice of modbus-serial's ModbusRTU used here (the package ships no types we can rely on). */
interface ModbusSerial {
  readonly isOpen: boolean;
  linkTCP(socket: Socket, options: Record<string, never>): Promise<void>;
  connectRTUBuffered(path: string, options: { baudRate: number; parity: string; dataBits: number; stopBits: number }): Promise<void>;
  setID(id: number): void;
  setTimeout(ms: number): void;
  readHoldingRegisters(address: number, count: number): Promise<{ data: number[] }>;
  readInputRegisters(address: number, count: number): Promise<{ data: number[] }>;
  readCoils(address: number, count: number): Promise<{ data: boolean[] }>;
  readDiscreteInputs(address: number, count: number): Promise<{ data: boolean[] }>;
  writeRegister(address: number, value: number): Promise<unknown>;
  writeRegisters(address: number, values: number[]): Promise<unknown>;
  writeCoil(address: number, value: boolean): Promise<unknown>;
  writeCoils(address: number, values: boolean[]): Promise<unknown>;
  on(event: 'error' | 'close', fn: (...args: unknown[]) => void): void;
  close(callback: () => void): void;
}
type ModbusSerialConstructor = new () => ModbusSerial;

export function linkDescription(o: ModbusLinkOptions): string {
  return o.transport === 'rtu' ? `rtu ${o.path}@${o.baudRate ?? 9600}` : `tcp ${o.host}:${o.port ?? 502}`;
}

export class SerialModbusClient implements ModbusClient {
  readonly description: string;
  readonly #options: ModbusLinkOptions;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #queue = new RequestQueue();
  #port: ModbusSerial | null = null;
  #opening: Promise<ModbusSerial> | null = null;
  #closed = false;
  #connections = 0;
  /** Set when the open link's peer sent a frame over the Modbus TCP size limit. */
  #brokenBy: PeerLimitError | null = null;
  /** Fails the request in flight at once when the guard trips (one request is in flight at a time). */
  #failInFlight: ((err: PeerLimitError) => void) | null = null;

  constructor(options: ModbusLinkOptions, clock: Clock) {
    this.#options = options;
    this.#clock = clock;
    this.#timeoutMs = options.timeoutMs ?? 1000;
    this.description = linkDescription(options);
  }

  get connected(): boolean {
    return this.#port?.isOpen === true;
  }

  get connections(): number {
    return this.#connections;
  }

  async connect(): Promise<void> {
    await this.#open('connecting');
  }

  readRegisters(table: RegisterTable, unit: number, address: number, count: number): Promise<number[]> {
    const request = `reading ${describeRange(table, address, count)} from unit ${unit}`;
    return this.#queue.push('read', () =>
      this.#request(request, unit, async (p) => {
        const r = table === 'holding' ? await p.readHoldingRegisters(address, count) : await p.readInputRegisters(address, count);
        return r.data.slice(0, count);
      }));
  }

  readBits(table: BitTable, unit: number, address: number, count: number): Promise<boolean[]> {
    const request = `reading ${describeRange(table, address, count)} from unit ${unit}`;
    return this.#queue.push('read', () =>
      this.#request(request, unit, async (p) => {
        const r = table === 'coil' ? await p.readCoils(address, count) : await p.readDiscreteInputs(address, count);
        return r.data.slice(0, count); // modbus-serial pads to whole bytes
      }));
  }

  writeRegisters(unit: number, address: number, values: number[]): Promise<void> {
    const request = `writing ${describeRange('holding', address, values.length)} of unit ${unit}`;
    return this.#queue.push('write', () =>
      this.#request(request, unit, async (p) => {
        if (values.length === 1) await p.writeRegister(address, values[0]);
        else await p.writeRegisters(address, values);
      }));
  }

  writeCoils(unit: number, address: number, values: boolean[]): Promise<void> {
    const request = `writing ${describeRange('coil', address, values.length)} of unit ${unit}`;
    return this.#queue.push('write', () =>
      this.#request(request, unit, async (p) => {
        if (values.length === 1) await p.writeCoil(address, values[0]);
        else await p.writeCoils(address, values);
      }));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.rejectAll(new ModbusLinkError(this.description, 'a queued request', 'connection', 'link closed before'));
    await this.#drop();
  }

  async #request<T>(request: string, unit: number, fn: (port: ModbusSerial) => Promise<T>): Promise<T> {
    const port = await this.#open(request);
    port.setID(unit);
    const call = fn(port);
    try {
      return await this.#deadline(this.#unlessBroken(call), request);
    } catch (err) {
      call.catch(() => {}); // a late failure of an abandoned call is not news
      if (err instanceof PeerLimitError) {
        await this.#drop();
        throw new ModbusLinkError(this.description, request, 'connection', `${err.message.slice(err.peer.length + 2)} when`, { cause: err });
      }
      const code = (err as { modbusCode?: unknown }).modbusCode;
      if (typeof code === 'number') throw new ModbusExceptionError(this.description, request, code);
      if (err instanceof ModbusLinkError) {
        await this.#drop();
        throw err;
      }
      const timedOut = (err as { errno?: unknown }).errno === 'ETIMEDOUT';
      await this.#drop();
      throw timedOut
        ? new ModbusLinkError(this.description, request, 'timeout', `timed out after ${this.#timeoutMs} ms`, { cause: err })
        : new ModbusLinkError(this.description, request, 'connection', `link failed (${errorMessage(err)}) when`, { cause: err });
    }
  }

  #deadline<T>(p: Promise<T>, request: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        reject(new ModbusLinkError(this.description, request, 'timeout', `timed out after ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      p.then(
        (v) => {
          this.#clock.clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          this.#clock.clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  #open(request: string): Promise<ModbusSerial> {
    if (this.#closed) return Promise.reject(new ModbusLinkError(this.description, request, 'connection', 'link is closed; refused'));
    if (this.#port?.isOpen) return Promise.resolve(this.#port);
    this.#opening ??= this.#connect(request).finally(() => {
      this.#opening = null;
    });
    return this.#opening;
  }

  async #connect(request: string): Promise<ModbusSerial> {
    await this.#drop();
    const Ctor = await loadModbusSerial(this.#options.transport);
    const port = new Ctor();
    // Without a listener, a socket error would be thrown as an uncaught 'error' event.
    port.on('error', () => {});
    port.setTimeout(this.#timeoutMs + 1000); // ours fires first; this only frees its own state
    const o = this.#options;
    const socket = o.transport === 'tcp' ? createConnection({ host: o.host!, port: o.port ?? 502 }) : null;
    const opening = socket
      ? connected(socket).then(() => {
        this.#guard(socket);
        return port.linkTCP(socket, {});
      })
      : port.connectRTUBuffered(o.path!, { baudRate: o.baudRate ?? 9600, parity: o.parity ?? 'none', dataBits: o.dataBits ?? 8, stopBits: o.stopBits ?? 1 });
    try {
      await this.#deadline(opening, request);
    } catch (err) {
      opening.catch(() => {});
      socket?.destroy();
      void closePort(port, this.#clock);
      const cause = (err as { code?: string }).code ?? errorMessage(err);
      if (err instanceof ModbusLinkError) {
        throw new ModbusLinkError(this.description, request, 'timeout', `could not connect within ${this.#timeoutMs} ms when`);
      }
      throw new ModbusLinkError(this.description, request, 'connection', `cannot connect (${cause}) when`, { cause: err });
    }
    if (this.#closed) {
      void closePort(port, this.#clock);
      throw new ModbusLinkError(this.description, request, 'connection', 'link closed while');
    }
    this.#port = port;
    this.#connections++;
    return port;
  }

  /** Our own socket, so the frame guard sees each chunk before modbus-serial buffers it. */
  /**
   * `call`, failed early when the guard trips. Not `Promise.race` with a long-lived "broken" promise:
   * every race adds a reaction to that promise which is only freed when it settles, so a healthy
   * link kept one per request (the soak saw +25 MB of heap per simulated hour at 10 polls/s).
   */
  #unlessBroken<T>(call: Promise<T>): Promise<T> {
    if (this.#brokenBy) return Promise.reject(this.#brokenBy);
    return new Promise<T>((resolve, reject) => {
      const fail = (err: PeerLimitError) => reject(err);
      this.#failInFlight = fail;
      const done = () => {
        if (this.#failInFlight === fail) this.#failInFlight = null;
      };
      call.then((v) => {
        done();
        resolve(v);
      }, (e: unknown) => {
        done();
        reject(e);
      });
    });
  }

  #guard(socket: Socket): void {
    this.#brokenBy = null;
    new MbapGuard(socket, (what, bytesRead) => {
      if (this.#brokenBy) return;
      this.#options.onReplyLimit?.();
      this.#brokenBy = new PeerLimitError(`modbus ${this.description}`, MAX_ADU_BYTES, `${what}, ${bytesRead} bytes read,`);
      this.#failInFlight?.(this.#brokenBy);
    });
  }

  async #drop(): Promise<void> {
    const port = this.#port;
    this.#port = null;
    if (port) await closePort(port, this.#clock);
  }
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      socket.off('error', reject);
      // modbus-serial listens for errors once linked; this one keeps a late error from being uncaught
      socket.on('error', () => {});
      socket.setNoDelay(true);
      resolve();
    });
    socket.once('error', reject);
  });
}

// modbus-serial never calls back when closing a port whose socket is already gone, so wait for
// the callback only while the port is open, and never longer than a moment.
function closePort(port: ModbusSerial, clock: Clock): Promise<void> {
  if (!port.isOpen) {
    try {
      port.close(() => {});
    } catch {
      // already closed
    }
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = clock.setTimeout(resolve, 200);
    try {
      port.close(() => {
        clock.clearTimeout(timer);
        resolve();
      });
    } catch {
      clock.clearTimeout(timer);
      resolve();
    }
  });
}

async function loadModbusSerial(transport: 'tcp' | 'rtu'): Promise<ModbusSerialConstructor> {
  // RTU needs the native serialport addon, which this project treats as Node-only (see DESIGN.md).
  if (transport === 'rtu') {
    requireNodeFor('modbus adapter (transport "rtu")', 'serialport');
    try {
      await import('serialport');
    } catch (err) {
      throw new Error(`modbus rtu: the optional module "serialport" is not installed or did not load (${errorMessage(err)}); run npm install serialport`, { cause: err });
    }
  }
  const mod = (await import('modbus-serial')) as unknown as { default: ModbusSerialConstructor };
  return mod.default;
}
