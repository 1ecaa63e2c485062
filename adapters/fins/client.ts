// The FinsClient over FINS/UDP (node:dgram, which Node and Deno both provide): one request in
// flight per link, a deadline per attempt, and a retry with a fresh SID, so a late answer to an
// abandoned attempt is never taken for the current one. Replies are matched on SID, command code
// and the response bit; anything else is ignored and counted.
import dgram from 'node:dgram';
import type { Clock, TimerHandle } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import {
  AREA_CODES,
  bytesToWords,
  COMMANDS,
  decodeFrame,
  describeEndCode,
  encodeFrame,
  endCodeOf,
  type FinsHeader,
  ICF_COMMAND,
  ICF_RESPONSE_BIT,
  memoryAreaBody,
  wordsToBytes,
} from './frame.ts';
import {
  describeAddress,
  type FinsArea,
  type FinsClient,
  type FinsCpuStatus,
  FinsEndCodeError,
  FinsLinkError,
  type FinsWordAddress,
} from './types.ts';

export interface FinsLinkOptions {
  host: string;
  /** PLC's FINS/UDP port. Default 9600. */
  port?: number;
  /** DNA: destination network, 0 = local network. */
  plcNetwork?: number;
  /** DA1: the PLC's FINS node number (default 2, as the real middleware's CJ2M). */
  plcNode?: number;
  /** DA2: destination unit, 0 = CPU Unit. */
  plcUnit?: number;
  /** SNA / SA1: this gateway's network and node. SA1 default 1; some Ethernet units want the last octet of the gateway's IP. */
  localNetwork?: number;
  localNode?: number;
  /** Local UDP port; 0 = any. Some Ethernet units answer to port 9600 only: then use 9600. */
  localPort?: number;
  /** Deadline of each attempt. Default 1000 ms. */
  timeoutMs?: number;
  /** Further attempts after a timeout or a malformed reply (not after an end-code refusal). Default 1. */
  retries?: number;
  /** Called for each datagram refused for its size (the peer-limit counter). */
  onReplyLimit?: () => void;
}

/**
 * The largest FINS/UDP frame: 10-byte header, command and end code, 999 words of data
 * (Omron W342 §5). A datagram is never buffered across reads, but a bigger one is not FINS.
 */
export const FINS_MAX_FRAME = 2012;

export interface FinsClientCounters {
  requests: number;
  retries: number;
  timeouts: number;
  /** Datagrams ignored: wrong SID, wrong command, not a response, too short. */
  ignored: number;
}

interface Pending {
  request: string;
  sid: number;
  mrc: number;
  src: number;
  resolve: (body: Uint8Array) => void;
  reject: (err: unknown) => void;
  timer: TimerHandle;
}

const MAX_READ_WORDS = 999;
const MAX_WRITE_WORDS = 996;

export class UdpFinsClient implements FinsClient {
  readonly description: string;
  readonly counters: FinsClientCounters = { requests: 0, retries: 0, timeouts: 0, ignored: 0 };
  readonly #o: Required<FinsLinkOptions>;
  readonly #clock: Clock;
  readonly #onRetry?: (message: string) => void;
  #socket: dgram.Socket | null = null;
  #opening: Promise<dgram.Socket> | null = null;
  #pending: Pending | null = null;
  #chain: Promise<unknown> = Promise.resolve();
  #sid = 0;
  #closed = false;

  constructor(options: FinsLinkOptions, clock: Clock, onRetry?: (message: string) => void) {
    this.#o = {
      port: 9600, plcNetwork: 0, plcNode: 2, plcUnit: 0, localNetwork: 0, localNode: 1, localPort: 0, timeoutMs: 1000, retries: 1, onReplyLimit: () => {},
      ...stripUndefined(options),
    };
    this.#clock = clock;
    this.#onRetry = onRetry;
    this.description = `fins ${this.#o.host}:${this.#o.port} node ${this.#o.plcNode}`;
  }

  async readWords(area: FinsArea, address: number, count: number): Promise<number[]> {
    const request = `reading ${describeAddress(area, address, count)}`;
    checkRange(this.description, request, address, count, MAX_READ_WORDS);
    return this.#command(request, COMMANDS.read, memoryAreaBody(AREA_CODES[area].word, address, 0, count), (data) => {
      if (data.length < count * 2) return null;
      return bytesToWords(data, count);
    });
  }

  async writeWords(area: FinsArea, address: number, values: readonly number[]): Promise<void> {
    const request = `writing ${describeAddress(area, address, values.length)}`;
    checkRange(this.description, request, address, values.length, MAX_WRITE_WORDS);
    const bad = values.findIndex((v) => !Number.isInteger(v) || v < 0 || v > 0xffff);
    if (bad >= 0) throw new RangeError(`${this.description}: ${request}: value [${bad}] = ${values[bad]} is not a word 0..65535`);
    return this.#command(request, COMMANDS.write, memoryAreaBody(AREA_CODES[area].word, address, 0, values.length, wordsToBytes(values)), () => undefined);
  }

  async readBits(area: FinsArea, address: number, bit: number, count: number): Promise<boolean[]> {
    const request = `reading ${describeAddress(area, address, count, bit)}`;
    checkBit(this.description, request, address, bit, count);
    return this.#command(request, COMMANDS.read, memoryAreaBody(AREA_CODES[area].bit, address, bit, count), (data) => {
      if (data.length < count) return null;
      return [...data.subarray(0, count)].map((b) => (b & 1) === 1);
    });
  }

  async writeBits(area: FinsArea, address: number, bit: number, values: readonly boolean[]): Promise<void> {
    const request = `writing ${describeAddress(area, address, values.length, bit)}`;
    checkBit(this.description, request, address, bit, values.length);
    const data = Uint8Array.from(values, (v) => (v ? 1 : 0));
    return this.#command(request, COMMANDS.write, memoryAreaBody(AREA_CODES[area].bit, address, bit, values.length, data), () => undefined);
  }

  async readMany(items: readonly FinsWordAddress[]): Promise<number[]> {
    const request = `reading ${items.map((i) => describeAddress(i.area, i.address)).join(', ')}`;
    if (items.length < 1 || items.length > 128) throw new RangeError(`${this.description}: ${request}: 1..128 addresses per multiple read, got ${items.length}`);
    const body = new Uint8Array(items.length * 4);
    items.forEach((item, i) => {
      checkRange(this.description, request, item.address, 1, 1);
      body.set([AREA_CODES[item.area].word, item.address >> 8, item.address & 0xff, 0], i * 4);
    });
    return this.#command(request, COMMANDS.readMany, body, (data) => {
      if (data.length < items.length * 3) return null;
      const out: number[] = [];
      for (let i = 0; i < items.length; i++) {
        if (data[i * 3] !== AREA_CODES[items[i].area].word) return null;
        out.push((data[i * 3 + 1] << 8) | data[i * 3 + 2]);
      }
      return out;
    });
  }

  status(): Promise<FinsCpuStatus> {
    return this.#command('reading CPU status', COMMANDS.status, new Uint8Array(0), (data) => {
      if (data.length < 6) return null;
      const status = data[0] === 0x01 ? 'run' : data[0] === 0x80 ? 'standby' : 'stop';
      const mode = data[1] === 0x04 ? 'run' : data[1] === 0x02 ? 'monitor' : 'program';
      const text = data.length >= 26 ? new TextDecoder('latin1').decode(data.subarray(10, 26)) : '';
      return {
        status,
        mode,
        fatalError: (data[2] << 8) | data[3],
        nonFatalError: (data[4] << 8) | data[5],
        errorMessage: text.replace(/[\0 ]+$/, ''),
      } satisfies FinsCpuStatus;
    });
  }

  run(mode: 'monitor' | 'run' = 'monitor'): Promise<void> {
    // Program number 0xFFFF = the program in the CPU.
    return this.#command(`switching the CPU to ${mode.toUpperCase()}`, COMMANDS.run, Uint8Array.of(0xff, 0xff, mode === 'run' ? 0x04 : 0x02), () => undefined);
  }

  stop(): Promise<void> {
    return this.#command('stopping the CPU (PROGRAM mode)', COMMANDS.stop, Uint8Array.of(0xff, 0xff), () => undefined);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const p = this.#pending;
    if (p) {
      this.#pending = null;
      this.#clock.clearTimeout(p.timer);
      p.reject(new FinsLinkError(this.description, 'a request in flight', 'connection', 'link closed during'));
    }
    const socket = this.#socket ?? (await this.#opening?.catch(() => null));
    this.#socket = null;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  /** Queues one command; `parse` returns null when the data is malformed (treated like no answer). */
  #command<T>(request: string, cmd: readonly [number, number], body: Uint8Array, parse: (data: Uint8Array) => T | null): Promise<T> {
    const run = () => this.#attempts(request, cmd, body, parse);
    const result = this.#chain.then(run, run);
    this.#chain = result.catch(() => {});
    return result;
  }

  async #attempts<T>(request: string, [mrc, src]: readonly [number, number], body: Uint8Array, parse: (data: Uint8Array) => T | null): Promise<T> {
    this.counters.requests++;
    for (let attempt = 0; ; attempt++) {
      try {
        const reply = await this.#exchange(request, mrc, src, body);
        const code = endCodeOf(reply);
        if (code !== 0) throw new FinsEndCodeError(this.description, request, code, describeEndCode(code));
        const value = parse(reply.subarray(2));
        if (value === null) throw new FinsLinkError(this.description, request, 'malformed', `malformed reply (${reply.length} bytes) to`);
        return value;
      } catch (err) {
        const retriable = err instanceof FinsLinkError && err.kind !== 'connection' && !this.#closed;
        if (!retriable || attempt >= this.#o.retries) throw err;
        this.counters.retries++;
        this.#onRetry?.(`${(err as Error).message}; retrying (${attempt + 1}/${this.#o.retries})`);
      }
    }
  }

  async #exchange(request: string, mrc: number, src: number, body: Uint8Array): Promise<Uint8Array> {
    const socket = await this.#open(request);
    const sid = this.#sid = (this.#sid % 255) + 1;
    const o = this.#o;
    const header: FinsHeader = {
      icf: ICF_COMMAND, rsv: 0, gct: 0x02, dna: o.plcNetwork, da1: o.plcNode, da2: o.plcUnit,
      sna: o.localNetwork, sa1: o.localNode, sa2: 0, sid,
    };
    const frame = encodeFrame({ header, mrc, src, body });
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        if (this.#pending?.sid !== sid) return;
        this.#pending = null;
        this.counters.timeouts++;
        reject(new FinsLinkError(this.description, request, 'timeout', `no answer within ${o.timeoutMs} ms to`));
      }, o.timeoutMs);
      this.#pending = { request, sid, mrc, src, resolve, reject, timer };
      socket.send(frame, o.port, o.host, (err) => {
        if (!err || this.#pending?.sid !== sid) return;
        this.#pending = null;
        this.#clock.clearTimeout(timer);
        reject(new FinsLinkError(this.description, request, 'connection', `cannot send (${errorMessage(err)}) when`, { cause: err }));
      });
    });
  }

  #onMessage(msg: Uint8Array): void {
    const p = this.#pending;
    if (msg.length > FINS_MAX_FRAME) {
      this.counters.ignored++;
      this.#o.onReplyLimit();
      // The answer to the request in flight (same service id) fails at once, naming the limit.
      if (!p || msg.length < 10 || msg[9] !== p.sid) return;
      this.#pending = null;
      this.#clock.clearTimeout(p.timer);
      p.reject(new FinsLinkError(this.description, p.request, 'malformed', `reply of ${msg.length} bytes is over the ${FINS_MAX_FRAME}-byte FINS frame limit; refused, answering`));
      return;
    }
    const frame = decodeFrame(msg);
    if (!p || !frame || frame.body.length < 2 || (frame.header.icf & ICF_RESPONSE_BIT) === 0 ||
      frame.header.sid !== p.sid || frame.mrc !== p.mrc || frame.src !== p.src) {
      this.counters.ignored++;
      return;
    }
    this.#pending = null;
    this.#clock.clearTimeout(p.timer);
    p.resolve(frame.body);
  }

  #open(request: string): Promise<dgram.Socket> {
    if (this.#closed) return Promise.reject(new FinsLinkError(this.description, request, 'connection', 'link is closed; refused'));
    if (this.#socket) return Promise.resolve(this.#socket);
    this.#opening ??= new Promise<dgram.Socket>((resolve, reject) => {
      const socket = dgram.createSocket('udp4');
      socket.on('message', (msg) => this.#onMessage(msg));
      socket.once('error', (err) => reject(new FinsLinkError(this.description, request, 'connection', `cannot open a UDP socket (${errorMessage(err)}) for`, { cause: err })));
      socket.bind(this.#o.localPort, () => {
        // Later socket errors (ICMP unreachable on some systems) fail the attempt in flight and reopen.
        socket.removeAllListeners('error');
        socket.on('error', (err) => this.#socketFailed(socket, err));
        resolve(socket);
      });
    }).then((socket) => {
      if (this.#closed) {
        socket.close();
        throw new FinsLinkError(this.description, request, 'connection', 'link closed while');
      }
      this.#socket = socket;
      return socket;
    }).finally(() => {
      this.#opening = null;
    });
    return this.#opening;
  }

  #socketFailed(socket: dgram.Socket, err: Error): void {
    if (this.#socket === socket) this.#socket = null;
    try {
      socket.close();
    } catch {
      // already closed
    }
    const p = this.#pending;
    if (!p) return;
    this.#pending = null;
    this.#clock.clearTimeout(p.timer);
    p.reject(new FinsLinkError(this.description, 'the request in flight', 'timeout', `socket error (${errorMessage(err)}) during`, { cause: err }));
  }
}

function checkRange(link: string, request: string, address: number, count: number, max: number): void {
  if (!Number.isInteger(address) || address < 0 || address > 0xffff) throw new RangeError(`${link}: ${request}: address must be 0..65535`);
  if (!Number.isInteger(count) || count < 1 || count > max) throw new RangeError(`${link}: ${request}: count must be 1..${max} words per frame, got ${count}`);
}

function checkBit(link: string, request: string, address: number, bit: number, count: number): void {
  checkRange(link, request, address, count, MAX_WRITE_WORDS);
  if (!Number.isInteger(bit) || bit < 0 || bit > 15) throw new RangeError(`${link}: ${request}: bit must be 0..15`);
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
