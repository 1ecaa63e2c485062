// An Omron CPU's FINS/UDP face on loopback: DM/CIO/W/H/A word memory answering read, write,
// multiple read, RUN/STOP and status with the CPU's end codes. The CJ2M mixing line (sim/cj2m.ts)
// and the FINS profile device put their program on top through `afterWrite` and `modeChanged`.
// Test hooks: stop/start on the same port, drop, corrupt, delay or refuse replies, hang, see requests.
import dgram from 'node:dgram';
import { type Clock, systemClock } from '../core/clock.ts';
import { areaOfCode, bytesToWords, COMMANDS, decodeFrame, encodeFrame, type FinsFrame, ICF_RESPONSE_BIT, responseHeader, wordsToBytes } from '../adapters/fins/frame.ts';
import type { FinsArea } from '../adapters/fins/types.ts';

/** Word counts of a CJ2M CPU's areas (H includes the function-block range H512..H1535). */
export const CJ2M_AREA_WORDS: Record<FinsArea, number> = { DM: 32768, CIO: 6144, W: 512, H: 1536, A: 1472 };
/** A0..A447 are read-only to FINS writes. */
const A_READ_ONLY_BELOW = 448;

export type ReplyCorruption = 'sid' | 'truncate' | 'data';

export interface FinsRequestRecord {
  sid: number;
  command: string;
  area?: FinsArea;
  address?: number;
  count?: number;
  endCode?: number;
  dropped?: boolean;
  corrupted?: ReplyCorruption;
}

/** A standing refusal: memory reads and writes touching `area` (and `address`, when given) answer `endCode`. */
export interface FinsRefusal {
  endCode: number;
  area?: FinsArea;
  address?: number;
}

export interface FinsServerOptions {
  host?: string;
  /** 0 picks a free port on the first start; later starts reuse it. */
  port?: number;
  /** The CPU's FINS node (DA1 it answers to). Default 2. */
  node?: number;
  clock?: Clock;
  keepRequests?: number;
  /** Called after every write from a client or `write` (not `poke`), with the words it touched. */
  onWrite?: (area: FinsArea, address: number, count: number) => void;
}

export class FinsServer {
  readonly node: number;
  readonly requests: FinsRequestRecord[] = [];
  mode: 'program' | 'monitor' | 'run' = 'monitor';
  /** Requests are read and never answered (a hung CPU); the port stays bound. */
  hung = false;
  /** Turnaround before each answer, in ms of the clock. */
  responseDelayMs = 0;
  readonly #host: string;
  readonly #keep: number;
  readonly #onWrite: FinsServerOptions['onWrite'];
  protected readonly clock: Clock;
  readonly #memory = new Map<FinsArea, Uint16Array>(
    (Object.keys(CJ2M_AREA_WORDS) as FinsArea[]).map((a) => [a, new Uint16Array(CJ2M_AREA_WORDS[a])]),
  );
  #socket: dgram.Socket | null = null;
  #port: number;
  #drop = 0;
  #corrupt: ReplyCorruption[] = [];
  #refusals: FinsRefusal[] = [];

  constructor(options: FinsServerOptions = {}) {
    this.node = options.node ?? 2;
    this.clock = options.clock ?? systemClock;
    this.#port = options.port ?? 0;
    this.#host = options.host ?? '127.0.0.1';
    this.#keep = options.keepRequests ?? 1000;
    this.#onWrite = options.onWrite;
  }

  get host(): string {
    return this.#host;
  }

  get port(): number {
    return this.#port;
  }

  get address(): string {
    return `udp ${this.host}:${this.port}`;
  }

  get listening(): boolean {
    return this.#socket !== null;
  }

  /** Starts answering (idempotent); a restart reuses the port of the first start. */
  async start(): Promise<void> {
    if (this.#socket) return;
    const socket = dgram.createSocket('udp4');
    socket.on('message', (msg, rinfo) => this.#onMessage(socket, msg, rinfo.port, rinfo.address));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.#port, this.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', () => {}); // a reply to a vanished client is not the simulator's problem
    this.#port = socket.address().port;
    this.#socket = socket;
  }

  /** Stops answering, like a PLC going off the network; memory is kept. */
  async stop(): Promise<void> {
    const socket = this.#socket;
    this.#socket = null;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  async close(): Promise<void> {
    await this.stop();
  }

  /** The next `n` requests get no reply (the client times out). */
  dropNext(n = 1): void {
    this.#drop += n;
  }

  /** The next reply is damaged: wrong SID, cut to the header, or cut data after a good end code. */
  corruptNext(kind: ReplyCorruption = 'sid'): void {
    this.#corrupt.push(kind);
  }

  /** Memory reads and writes matching `refusal` answer its end code until `clearFaults()`. */
  refuse(refusal: FinsRefusal): void {
    this.#refusals.push({ ...refusal });
  }

  /** Clears refusals, pending drops and corruptions, hang and delay. */
  clearFaults(): void {
    this.#refusals = [];
    this.#drop = 0;
    this.#corrupt = [];
    this.hung = false;
    this.responseDelayMs = 0;
  }

  /** Reads memory directly (test hook). */
  read(area: FinsArea, address: number, count: number): number[] {
    return [...this.#memory.get(area)!.subarray(address, address + count)];
  }

  /** Writes memory directly, as the PLC program or an operator would; the program reacts. */
  write(area: FinsArea, address: number, values: readonly number[]): void {
    this.#memory.get(area)!.set(values, address);
    this.afterWrite(area, address, values.length);
  }

  /** Puts words into memory as the CPU's own program does: no `afterWrite`, the program does not react to itself. */
  poke(area: FinsArea, address: number, values: readonly number[]): void {
    this.#memory.get(area)!.set(values, address);
  }

  /** Power loss: every area back to zero (no battery-backed memory). */
  clearMemory(): void {
    for (const words of this.#memory.values()) words.fill(0);
  }

  /** The live words of an area, for the program on top. */
  protected area(area: FinsArea): Uint16Array {
    return this.#memory.get(area)!;
  }

  /** Called after every write (FINS or `write`) with the words it touched. */
  protected afterWrite(area: FinsArea, address: number, count: number): void {
    this.#onWrite?.(area, address, count);
  }

  /** Called after RUN or STOP changed the mode. */
  protected modeChanged(_previous: FinsServer['mode']): void {}

  #onMessage(socket: dgram.Socket, msg: Uint8Array, port: number, host: string): void {
    const frame = decodeFrame(msg);
    if (!frame || (frame.header.icf & ICF_RESPONSE_BIT) !== 0) return;
    const record: FinsRequestRecord = { sid: frame.header.sid, command: hex(frame.mrc) + hex(frame.src) };
    this.requests.push(record);
    if (this.requests.length > this.#keep) this.requests.shift();
    if (this.hung || this.#drop > 0) {
      if (!this.hung) this.#drop--;
      record.dropped = true;
      return;
    }
    const { code, data } = frame.header.da1 !== this.node && frame.header.da1 !== 0
      ? { code: 0x0201, data: new Uint8Array(0) }
      : this.#execute(frame, record);
    record.endCode = code;
    const header = responseHeader(frame.header);
    let body = new Uint8Array(2 + data.length);
    body.set([code >> 8, code & 0xff]);
    body.set(data, 2);
    const corruption = this.#corrupt.shift();
    if (corruption) {
      record.corrupted = corruption;
      if (corruption === 'sid') header.sid = (header.sid + 128) & 0xff;
      if (corruption === 'truncate') body = new Uint8Array(0);
      if (corruption === 'data') body = body.subarray(0, Math.max(2, body.length - 1));
    }
    const reply = encodeFrame({ header, mrc: frame.mrc, src: frame.src, body });
    // Sent on the socket the request came in on: one closed meanwhile (offline) sends nothing.
    const send = () => {
      if (this.#socket === socket) socket.send(reply, port, host);
    };
    if (this.responseDelayMs > 0) this.clock.setTimeout(send, this.responseDelayMs);
    else send();
  }

  #execute(frame: FinsFrame, record: FinsRequestRecord): { code: number; data: Uint8Array } {
    const none = new Uint8Array(0);
    const b = frame.body;
    const cmd = [frame.mrc, frame.src].join();
    if (cmd === COMMANDS.read.join() || cmd === COMMANDS.write.join()) {
      if (b.length < 6) return { code: 0x1002, data: none };
      const target = areaOfCode(b[0]);
      if (!target) return { code: 0x1101, data: none };
      const address = (b[1] << 8) | b[2];
      const bit = b[3];
      const count = (b[4] << 8) | b[5];
      Object.assign(record, { area: target.area, address, count });
      const mem = this.#memory.get(target.area)!;
      const wordsTouched = target.bits ? Math.ceil((bit + count) / 16) : count;
      if (target.bits ? bit > 15 : bit !== 0) return { code: 0x1103, data: none };
      if (address >= mem.length) return { code: 0x1103, data: none };
      if (count === 0 || address + wordsTouched > mem.length) return { code: 0x1104, data: none };
      const refusal = this.#refusal(target.area, address, wordsTouched);
      if (refusal) return { code: refusal.endCode, data: none };
      if (cmd === COMMANDS.read.join()) {
        if (!target.bits) return { code: 0, data: wordsToBytes([...mem.subarray(address, address + count)]) };
        return { code: 0, data: Uint8Array.from({ length: count }, (_, i) => (mem[address + ((bit + i) >> 4)] >> ((bit + i) & 15)) & 1) };
      }
      const data = b.subarray(6);
      if (data.length !== (target.bits ? count : count * 2)) return { code: 0x1003, data: none };
      if (target.area === 'A' && address < A_READ_ONLY_BELOW) return { code: 0x2101, data: none };
      if (target.bits) {
        for (let i = 0; i < count; i++) {
          const w = address + ((bit + i) >> 4);
          const mask = 1 << ((bit + i) & 15);
          mem[w] = data[i] & 1 ? mem[w] | mask : mem[w] & ~mask;
        }
        this.afterWrite(target.area, address, wordsTouched);
      } else {
        this.write(target.area, address, bytesToWords(data, count));
      }
      return { code: 0, data: none };
    }
    if (cmd === COMMANDS.readMany.join()) {
      if (b.length < 4 || b.length % 4 !== 0) return { code: 0x1002, data: none };
      const out: number[] = [];
      for (let i = 0; i < b.length; i += 4) {
        const target = areaOfCode(b[i]);
        if (!target) return { code: 0x1101, data: none };
        const mem = this.#memory.get(target.area)!;
        const address = (b[i + 1] << 8) | b[i + 2];
        if (address >= mem.length || b[i + 3] > 15) return { code: 0x1103, data: none };
        const refusal = this.#refusal(target.area, address, 1);
        if (refusal) return { code: refusal.endCode, data: none };
        if (target.bits) out.push(b[i], (mem[address] >> b[i + 3]) & 1);
        else out.push(b[i], mem[address] >> 8, mem[address] & 0xff);
      }
      return { code: 0, data: Uint8Array.from(out) };
    }
    if (cmd === COMMANDS.run.join()) {
      this.#setMode(b.length >= 3 && b[2] === 0x04 ? 'run' : 'monitor');
      return { code: 0, data: none };
    }
    if (cmd === COMMANDS.stop.join()) {
      this.#setMode('program');
      return { code: 0, data: none };
    }
    if (cmd === COMMANDS.status.join()) {
      const data = new Uint8Array(26);
      data[0] = this.mode === 'program' ? 0x00 : 0x01;
      data[1] = { program: 0x00, monitor: 0x02, run: 0x04 }[this.mode];
      return { code: 0, data };
    }
    return { code: 0x0401, data: none };
  }

  #refusal(area: FinsArea, address: number, count: number): FinsRefusal | undefined {
    return this.#refusals.find((r) => (r.area === undefined || r.area === area) && (r.address === undefined || (r.address >= address && r.address < address + count)));
  }

  #setMode(mode: FinsServer['mode']): void {
    const previous = this.mode;
    this.mode = mode;
    this.modeChanged(previous);
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
