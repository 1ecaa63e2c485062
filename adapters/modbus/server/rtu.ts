// Modbus RTU transport of a server: frames are unit + PDU + CRC-16 (low byte first), delimited by
// silence on the line. A frame whose CRC is wrong is dropped without an answer, as a real slave does.
import { type Clock, systemClock, type TimerHandle } from '../../../core/clock.ts';
import type { FrameHandler, ServerReply } from './tcp.ts';

/** CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF). */
export function crc16(data: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of data) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** unit + PDU + CRC (low byte first). */
export function encodeRtuFrame(unit: number, pdu: Uint8Array): Uint8Array {
  const out = new Uint8Array(pdu.length + 3);
  out[0] = unit;
  out.set(pdu, 1);
  const crc = crc16(out.subarray(0, pdu.length + 1));
  out[pdu.length + 1] = crc & 0xff;
  out[pdu.length + 2] = crc >> 8;
  return out;
}

/** Whether a whole frame (with its CRC) checks. */
export function rtuCrcOk(frame: Uint8Array): boolean {
  if (frame.length < 4) return false;
  const crc = crc16(frame.subarray(0, frame.length - 2));
  return frame[frame.length - 2] === (crc & 0xff) && frame[frame.length - 1] === crc >> 8;
}

/** The length of a request frame from its first bytes, null when not yet known or not knowable (unknown function). */
export function requestFrameLength(buf: Uint8Array): number | null {
  if (buf.length < 2) return null;
  switch (buf[1]) {
    case 1: case 2: case 3: case 4: case 5: case 6: case 8:
      return 8;
    case 15: case 16:
      return buf.length >= 7 ? 9 + buf[6] : null;
    case 23:
      return buf.length >= 11 ? 13 + buf[10] : null;
    default:
      return null;
  }
}

const KNOWN_FUNCTIONS = new Set([1, 2, 3, 4, 5, 6, 8, 15, 16, 23]);

/** The largest Modbus RTU frame: address, PDU of at most 253 bytes, CRC. */
export const RTU_MAX_ADU = 256;

/** 3.5 character times at `baudRate` (11 bits a character), at least 1.75 ms as the specification fixes above 19200 baud. */
export function interFrameMs(baudRate: number): number {
  return Math.max(1.75, (3.5 * 11 * 1000) / baudRate);
}

export interface RtuFramerOptions {
  /** Called with every frame whose CRC checks (the CRC stripped). */
  onFrame(unit: number, pdu: Uint8Array): void;
  /** Called with frames dropped (bad CRC, too short, noise). */
  onDropped?(reason: string, bytes: Uint8Array): void;
  /** Silence that ends a frame, ms. */
  silenceMs: number;
  /**
   * Silence tolerated inside a request whose length is known but not yet complete. USB serial
   * adapters deliver bytes in bursts (FTDI: every 16 ms), so a strict 3.5-character rule would cut
   * frames in half. Default 50 ms.
   */
  partialFrameMs?: number;
  clock?: Clock;
}

/**
 * Cuts a byte stream into RTU frames. A request ends when its expected length has arrived with a
 * good CRC (no need to wait for silence) or, for functions of unknown length, at the silence; what
 * is left at the silence without a good CRC (noise, another slave's answer, a bad CRC) is dropped.
 */
export class RtuFramer {
  readonly #o: RtuFramerOptions;
  readonly #clock: Clock;
  #buf: Uint8Array = new Uint8Array(0);
  #timer: TimerHandle | undefined;

  constructor(options: RtuFramerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
  }

  push(chunk: Uint8Array): void {
    this.#clearTimer();
    const next = new Uint8Array(this.#buf.length + chunk.length);
    next.set(this.#buf);
    next.set(chunk, this.#buf.length);
    this.#buf = next;
    for (;;) {
      const len = requestFrameLength(this.#buf);
      if (len === null || this.#buf.length < len || !rtuCrcOk(this.#buf.subarray(0, len))) break;
      const frame = this.#buf.slice(0, len);
      this.#buf = this.#buf.slice(len);
      this.#o.onFrame(frame[0], frame.subarray(1, len - 2));
    }
    if (this.#buf.length === 0) return;
    if (this.#buf.length > RTU_MAX_ADU) {
      // A line that never goes quiet (a chattering device, a converter stuck sending) would grow the
      // buffer without end; what is here cannot become a frame, so it goes now, not at the silence.
      const noise = this.#buf;
      this.#buf = new Uint8Array(0);
      this.#o.onDropped?.(`${noise.length} bytes without a frame boundary, over the ${RTU_MAX_ADU}-byte RTU frame limit`, noise);
      return;
    }
    const len = requestFrameLength(this.#buf);
    const knownFunction = this.#buf.length < 2 || KNOWN_FUNCTIONS.has(this.#buf[1]);
    const waiting = knownFunction && (len === null || this.#buf.length < len);
    this.#timer = this.#clock.setTimeout(() => this.#silence(), waiting ? (this.#o.partialFrameMs ?? 50) : this.#o.silenceMs);
  }

  /** Drops whatever is buffered (port closed). */
  reset(): void {
    this.#clearTimer();
    this.#buf = new Uint8Array(0);
  }

  #silence(): void {
    this.#timer = undefined;
    const buf = this.#buf;
    this.#buf = new Uint8Array(0);
    if (rtuCrcOk(buf)) this.#o.onFrame(buf[0], buf.subarray(1, buf.length - 2));
    else this.#o.onDropped?.(buf.length < 4 ? `${buf.length} byte(s) of noise` : 'CRC mismatch', buf);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** The part of a serial port the RTU server needs (serialport's SerialPort fits). */
export interface SerialLink {
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  write(data: Uint8Array): unknown;
}

export interface ModbusRtuServerOptions {
  link: SerialLink;
  baudRate: number;
  handle: FrameHandler;
  onDropped?(reason: string): void;
  onHandlerError?(err: unknown): void;
  clock?: Clock;
}

/** Serves one RTU line: requests are answered one after the other, as a half-duplex bus requires. */
export class ModbusRtuServer {
  readonly framer: RtuFramer;
  readonly #o: ModbusRtuServerOptions;
  #tail: Promise<void> = Promise.resolve();

  constructor(options: ModbusRtuServerOptions) {
    this.#o = options;
    this.framer = new RtuFramer({
      silenceMs: interFrameMs(options.baudRate),
      clock: options.clock,
      onFrame: (unit, pdu) => this.#frame(unit, pdu),
      onDropped: (reason) => options.onDropped?.(reason),
    });
    options.link.on('data', (chunk) => this.framer.push(chunk));
  }

  #frame(unit: number, pdu: Uint8Array): void {
    let reply: ServerReply | Promise<ServerReply>;
    try {
      reply = this.#o.handle(unit, pdu);
    } catch (err) {
      this.#o.onHandlerError?.(err);
      return;
    }
    this.#tail = this.#tail.then(() => reply).then((r) => {
      if (r instanceof Uint8Array) this.#o.link.write(encodeRtuFrame(unit, r));
    }, (err: unknown) => this.#o.onHandlerError?.(err));
  }
}
