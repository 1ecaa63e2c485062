// The ModbusClient as an RTU master on a serial line it drives itself (the libc FFI line by default,
// so it runs on Deno): one request in flight, 3.5 characters of silence before each request, a
// deadline per request, and bytes nobody asked for (late replies, noise) dropped, never taken for
// the answer to the next request.
import type { Clock, TimerHandle } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import { RequestQueue } from './queue.ts';
import { parseReply, readRequest, replyLength, RTU_MAX_ADU, type RtuRequest, writeCoilsRequest, writeRegistersRequest } from './rtu-request.ts';
import { rtuCrcOk } from './server/rtu.ts';
import { type BitTable, describeRange, type ModbusClient, ModbusExceptionError, ModbusLinkError, type RegisterTable } from './types.ts';

export interface RtuLineOptions {
  baudRate: number;
  parity: 'none' | 'even' | 'odd';
  dataBits: 7 | 8;
  stopBits: 1 | 2;
}

/** An open serial line (FfiSerialPort fits). */
export interface RtuLine {
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  write(data: Uint8Array): unknown;
  close(): Promise<void>;
}

/** Opens the line; `onLost` hears once that it broke (USB adapter unplugged). */
export type OpenRtuLine = (path: string, options: RtuLineOptions, onLost: (err: Error) => void) => Promise<RtuLine>;

export interface RtuClientOptions extends RtuLineOptions {
  path: string;
  /** Deadline of each reply, counted from the end of the request's transmission. */
  timeoutMs: number;
  openLine: OpenRtuLine;
  /**
   * How late the line may hand over bytes the kernel already holds (the FFI line's poll period, 5 ms),
   * added to the silence before each request so a late reply still in the kernel's buffer is read,
   * and dropped, before the next request goes out. Default 0.
   */
  rxLatencyMs?: number;
  /** Called once per reply refused for its size (the `fieldgate_peer_reply_oversize_total` counter). */
  onReplyLimit?: () => void;
}

type ReplyData = { registers?: number[]; bits?: boolean[] };

interface Pending {
  req: RtuRequest;
  what: string;
  buf: Uint8Array;
  timer: TimerHandle;
  resolve(data: ReplyData): void;
  reject(err: Error): void;
}

/** Character time in ms: start bit, data bits, parity, stop bits. */
export function charMs(o: RtuLineOptions): number {
  return ((1 + o.dataBits + (o.parity === 'none' ? 0 : 1) + o.stopBits) * 1000) / o.baudRate;
}

/** The inter-frame silence: 3.5 characters, fixed at 1.75 ms above 19200 baud (Modbus over serial line, 2.5.1.1). */
export function silenceMs(o: RtuLineOptions): number {
  return o.baudRate > 19200 ? 1.75 : 3.5 * charMs(o);
}

export class RtuModbusClient implements ModbusClient {
  readonly description: string;
  readonly #o: RtuClientOptions;
  readonly #clock: Clock;
  readonly #queue = new RequestQueue();
  readonly #charMs: number;
  readonly #silenceMs: number;
  #line: RtuLine | null = null;
  #opening: Promise<RtuLine> | null = null;
  #pending: Pending | null = null;
  #lastByteAt = -Infinity;
  #closed = false;
  #connections = 0;
  /** Bytes received while no request waited, or after a reply: late answers, noise. */
  strayBytes = 0;

  constructor(options: RtuClientOptions, clock: Clock) {
    this.#o = options;
    this.#clock = clock;
    this.#charMs = charMs(options);
    this.#silenceMs = silenceMs(options) + (options.rxLatencyMs ?? 0);
    this.description = `rtu ${options.path}@${options.baudRate}`;
  }

  get connected(): boolean {
    return this.#line !== null;
  }

  get connections(): number {
    return this.#connections;
  }

  async connect(): Promise<void> {
    await this.#open('connecting');
  }

  readRegisters(table: RegisterTable, unit: number, address: number, count: number): Promise<number[]> {
    const what = `reading ${describeRange(table, address, count)} from unit ${unit}`;
    return this.#queue.push('read', async () => (await this.#send(what, () => readRequest(unit, table === 'holding' ? 3 : 4, address, count))).registers!);
  }

  readBits(table: BitTable, unit: number, address: number, count: number): Promise<boolean[]> {
    const what = `reading ${describeRange(table, address, count)} from unit ${unit}`;
    return this.#queue.push('read', async () => (await this.#send(what, () => readRequest(unit, table === 'coil' ? 1 : 2, address, count))).bits!);
  }

  writeRegisters(unit: number, address: number, values: number[]): Promise<void> {
    const what = `writing ${describeRange('holding', address, values.length)} of unit ${unit}`;
    return this.#queue.push('write', async () => void (await this.#send(what, () => writeRegistersRequest(unit, address, values))));
  }

  writeCoils(unit: number, address: number, values: boolean[]): Promise<void> {
    const what = `writing ${describeRange('coil', address, values.length)} of unit ${unit}`;
    return this.#queue.push('write', async () => void (await this.#send(what, () => writeCoilsRequest(unit, address, values))));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.rejectAll(new ModbusLinkError(this.description, 'a queued request', 'connection', 'link closed before'));
    this.#settle(new ModbusLinkError(this.description, this.#pending?.what ?? '', 'connection', 'link closed while'));
    await this.#drop();
  }

  async #send(what: string, build: () => RtuRequest): Promise<ReplyData> {
    let req: RtuRequest;
    try {
      req = build();
    } catch (err) {
      throw new RangeError(`modbus ${this.description}: ${what}: ${errorMessage(err).replace(/^modbus rtu: /, '')}`);
    }
    const line = await this.#open(what);
    await this.#quiet(what);
    const txMs = req.adu.length * this.#charMs;
    return new Promise((resolve, reject) => {
      // A broadcast (unit 0) gets no reply: done once it is on the wire and the line has rested.
      const timeout = () =>
        req.unit === 0 ? this.#settle(null, {}) : this.#settle(new ModbusLinkError(this.description, what, 'timeout', `timed out after ${this.#o.timeoutMs} ms`));
      const timer = this.#clock.setTimeout(timeout, req.unit === 0 ? txMs + this.#silenceMs : txMs + this.#o.timeoutMs);
      this.#pending = { req, what, buf: new Uint8Array(0), timer, resolve, reject };
      try {
        line.write(req.adu);
      } catch (err) {
        this.#settle(new ModbusLinkError(this.description, what, 'connection', `cannot write (${errorMessage(err)}) when`, { cause: err }));
        void this.#drop();
      }
    });
  }

  #onData(line: RtuLine, chunk: Uint8Array): void {
    if (line !== this.#line) return;
    this.#lastByteAt = this.#clock.monotonic();
    const p = this.#pending;
    if (!p || p.req.unit === 0) {
      this.strayBytes += chunk.length;
      return;
    }
    if (p.buf.length + chunk.length > RTU_MAX_ADU) {
      this.#o.onReplyLimit?.();
      this.#settle(new ModbusLinkError(this.description, p.what, 'connection', `reply over the ${RTU_MAX_ADU}-byte RTU frame limit (${p.buf.length + chunk.length} bytes read) when`));
      return;
    }
    const buf = new Uint8Array(p.buf.length + chunk.length);
    buf.set(p.buf);
    buf.set(chunk, p.buf.length);
    p.buf = buf;
    this.#scan(p);
  }

  /**
   * Finds our reply in what arrived: a frame that starts with our unit at the front (taken whatever
   * its CRC, so a corrupted reply is reported as such), or further in with a good CRC — after noise
   * (RS-485 transceivers often emit a stray byte when they turn around) or another station's frame.
   */
  #scan(p: Pending): void {
    for (let at = 0; at < p.buf.length; at++) {
      const rest = p.buf.subarray(at);
      if (rest[0] !== p.req.unit) continue;
      const len = replyLength(rest);
      if (len === null || rest.length < len) continue;
      const frame = rest.subarray(0, len);
      if (at > 0 && !rtuCrcOk(frame)) continue;
      this.strayBytes += p.buf.length - len;
      const reply = parseReply(p.req, frame);
      if (reply.kind === 'exception') this.#settle(new ModbusExceptionError(this.description, p.what, reply.code));
      else if (reply.kind === 'invalid') this.#bad(p, reply.reason);
      else this.#settle(null, reply);
      return;
    }
  }

  #bad(p: Pending, reason: string): void {
    this.#settle(new ModbusLinkError(this.description, p.what, 'connection', `bad reply (${reason}) to`));
  }

  #settle(err: Error | null, data: ReplyData = {}): void {
    const p = this.#pending;
    if (!p) return;
    this.#pending = null;
    this.#clock.clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve(data);
  }

  /** Waits for 3.5 characters of silence (plus the line's latency), so a late reply still arriving is over before we ask again. */
  async #quiet(what: string): Promise<void> {
    const start = this.#clock.monotonic();
    for (;;) {
      const wait = this.#lastByteAt + this.#silenceMs - this.#clock.monotonic();
      if (wait <= 0) return;
      if (this.#clock.monotonic() - start > this.#o.timeoutMs) {
        throw new ModbusLinkError(this.description, what, 'timeout', `the line did not go quiet within ${this.#o.timeoutMs} ms (another master, or noise) before`);
      }
      await this.#clock.sleep(wait);
    }
  }

  #open(what: string): Promise<RtuLine> {
    if (this.#closed) return Promise.reject(new ModbusLinkError(this.description, what, 'connection', 'link is closed; refused'));
    if (this.#line) return Promise.resolve(this.#line);
    this.#opening ??= this.#connect(what).finally(() => {
      this.#opening = null;
    });
    return this.#opening;
  }

  async #connect(what: string): Promise<RtuLine> {
    const o = this.#o;
    let line: RtuLine | null = null;
    const lost = (err: Error) => {
      if (!line || line !== this.#line) return;
      this.#line = null;
      void line.close();
      this.#settle(new ModbusLinkError(this.description, this.#pending?.what ?? '', 'connection', `line lost (${err.message}) while`, { cause: err }));
    };
    try {
      line = await o.openLine(o.path, { baudRate: o.baudRate, parity: o.parity, dataBits: o.dataBits, stopBits: o.stopBits }, lost);
    } catch (err) {
      throw new ModbusLinkError(this.description, what, 'connection', `cannot open the line (${errorMessage(err)}) when`, { cause: err });
    }
    if (this.#closed) {
      await line.close();
      throw new ModbusLinkError(this.description, what, 'connection', 'link closed while');
    }
    const opened = line;
    opened.on('data', (chunk) => this.#onData(opened, chunk));
    this.#line = opened;
    this.#connections++;
    return opened;
  }

  async #drop(): Promise<void> {
    const line = this.#line;
    this.#line = null;
    await line?.close();
  }
}
