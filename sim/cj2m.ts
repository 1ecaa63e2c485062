// An Omron CJ2M CPU on FINS/UDP loopback: DM/CIO/W/H/A memory answering read, write, multiple read,
// RUN/STOP and status with the CPU's end codes, and the mixing line's PLC program: a batch block
// written at D7000 + 100(n-1) (plugins/odoo-sync/plc-layout.ts) is mixed for `mixingMs` of process
// time, one batch at a time, then flagged finished. Test hooks: stop/start on the same port, drop or
// corrupt replies, read/write memory, force a batch done, see the requests.
import dgram from 'node:dgram';
import { type Clock, systemClock, type TimerHandle } from '../core/clock.ts';
import {
  areaOfCode,
  bytesToWords,
  COMMANDS,
  decodeFrame,
  encodeFrame,
  type FinsFrame,
  ICF_RESPONSE_BIT,
  responseHeader,
  wordsToBytes,
} from '../adapters/fins/frame.ts';
import type { FinsArea } from '../adapters/fins/types.ts';
import { BATCH_BASE, BATCH_STRIDE, BATCH_WORDS, batchAddress, batchAt, decodeBatch, encodeScaled, MAX_BATCH_NO, OFFSET } from '../plugins/odoo-sync/plc-layout.ts';

/** Word counts of a CJ2M CPU's areas (H includes the function-block range H512..H1535). */
export const CJ2M_AREA_WORDS: Record<FinsArea, number> = { DM: 32768, CIO: 6144, W: 512, H: 1536, A: 1472 };
/** A0..A447 are read-only to FINS writes. */
const A_READ_ONLY_BELOW = 448;

interface Mixing {
  batch: number;
  timer?: TimerHandle;
  /** Clock-monotonic time the batch finishes (while armed). */
  dueAt: number;
  /** Clock milliseconds left when (re)armed. */
  remaining: number;
}

export type ReplyCorruption = 'sid' | 'truncate' | 'data';

export interface Cj2mRequestRecord {
  sid: number;
  command: string;
  area?: FinsArea;
  address?: number;
  count?: number;
  endCode?: number;
  dropped?: boolean;
  corrupted?: ReplyCorruption;
}

export interface Cj2mOptions {
  host?: string;
  /** 0 picks a free port on the first start; later starts reuse it. */
  port?: number;
  /** The CPU's FINS node (DA1 it answers to). Default 2. */
  node?: number;
  clock?: Clock;
  /** Process seconds per clock second. Default 1. */
  timeScale?: number;
  /** Mixing time of one batch in process milliseconds. Default 60 000. */
  mixingMs?: number;
  keepRequests?: number;
}

export class Cj2mSimulator {
  readonly node: number;
  readonly requests: Cj2mRequestRecord[] = [];
  /** Every batch the program took (word +0 set to n over an unfinished block), with its MO: what was mixed. */
  readonly taken: Array<{ batchNo: number; moId: string }> = [];
  mode: 'program' | 'monitor' | 'run' = 'monitor';
  timeScale: number;
  mixingMs: number;
  readonly #o: Cj2mOptions;
  readonly #clock: Clock;
  readonly #memory = new Map<FinsArea, Uint16Array>(
    (Object.keys(CJ2M_AREA_WORDS) as FinsArea[]).map((a) => [a, new Uint16Array(CJ2M_AREA_WORDS[a])]),
  );
  #socket: dgram.Socket | null = null;
  #port: number;
  #drop = 0;
  #corrupt: ReplyCorruption[] = [];
  readonly #queue: number[] = [];
  #mixing: Mixing | null = null;

  constructor(options: Cj2mOptions = {}) {
    this.#o = options;
    this.node = options.node ?? 2;
    this.#clock = options.clock ?? systemClock;
    this.#port = options.port ?? 0;
    this.timeScale = options.timeScale ?? 1;
    this.mixingMs = options.mixingMs ?? 60_000;
  }

  get host(): string {
    return this.#o.host ?? '127.0.0.1';
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

  /** Batches waiting behind the one being mixed. */
  get queued(): readonly number[] {
    return [...this.#queue];
  }

  /** The batch in the mixer, or null. */
  get mixing(): number | null {
    return this.#mixing?.batch ?? null;
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

  /** Stops answering, like a PLC going off the network; memory and mixing state are kept. */
  async stop(): Promise<void> {
    const socket = this.#socket;
    this.#socket = null;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  /** Stops and cancels the mixing timer. */
  async close(): Promise<void> {
    if (this.#mixing?.timer) this.#clock.clearTimeout(this.#mixing.timer);
    this.#mixing = null;
    this.#queue.length = 0;
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

  /** Reads memory directly (test hook). */
  read(area: FinsArea, address: number, count: number): number[] {
    return [...this.#memory.get(area)!.subarray(address, address + count)];
  }

  /** Writes memory directly, as the PLC program or an operator would; the mixing program reacts. */
  write(area: FinsArea, address: number, values: readonly number[]): void {
    this.#memory.get(area)!.set(values, address);
    if (area === 'DM') this.#afterDmWrite(address, values.length);
  }

  /** Ends batch n now (queued or mixing), as if its mixing time had passed; `failed` sets status_operation. */
  forceDone(batchNo: number, options: { failed?: boolean } = {}): void {
    const i = this.#queue.indexOf(batchNo);
    if (i >= 0) this.#queue.splice(i, 1);
    if (this.#mixing?.batch === batchNo) {
      if (this.#mixing.timer) this.#clock.clearTimeout(this.#mixing.timer);
      this.#mixing = null;
    }
    this.#finish(batchNo, options.failed ?? false);
    this.#pump();
  }

  #onMessage(socket: dgram.Socket, msg: Uint8Array, port: number, host: string): void {
    const frame = decodeFrame(msg);
    if (!frame || (frame.header.icf & ICF_RESPONSE_BIT) !== 0) return;
    const record: Cj2mRequestRecord = { sid: frame.header.sid, command: hex(frame.mrc) + hex(frame.src) };
    this.requests.push(record);
    if (this.requests.length > (this.#o.keepRequests ?? 1000)) this.requests.shift();
    if (this.#drop > 0) {
      this.#drop--;
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
    socket.send(encodeFrame({ header, mrc: frame.mrc, src: frame.src, body }), port, host);
  }

  #execute(frame: FinsFrame, record: Cj2mRequestRecord): { code: number; data: Uint8Array } {
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
        if (target.area === 'DM') this.#afterDmWrite(address, wordsTouched);
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

  #setMode(mode: Cj2mSimulator['mode']): void {
    const wasRunning = this.mode !== 'program';
    this.mode = mode;
    const m = this.#mixing;
    if (wasRunning && mode === 'program' && m?.timer) {
      // PROGRAM mode stops the program: the mixer pauses and resumes where it was.
      this.#clock.clearTimeout(m.timer);
      m.timer = undefined;
      m.remaining = Math.max(0, m.dueAt - this.#clock.monotonic());
    }
    this.#pump();
  }

  /** The PLC program's reaction to a D write: take new batches, clear acknowledged ones. */
  #afterDmWrite(address: number, count: number): void {
    const first = batchAt(address) || Math.max(1, Math.floor((address - BATCH_BASE) / BATCH_STRIDE) + 1);
    for (let n = first; n <= MAX_BATCH_NO; n++) {
      const base = batchAddress(n);
      if (base >= address + count) break;
      if (base + BATCH_WORDS <= address) continue;
      const dm = this.#memory.get('DM')!;
      const touches = (offset: number) => base + offset >= address && base + offset < address + count;
      if (touches(OFFSET.statusReadData) && dm[base + OFFSET.statusReadData] === 1 && dm[base + OFFSET.statusManufacturing] === 1) {
        dm.fill(0, base, base + BATCH_WORDS);
        continue;
      }
      if (touches(OFFSET.batchNo) && dm[base] === n && dm[base + OFFSET.statusManufacturing] === 0 &&
        this.#mixing?.batch !== n && !this.#queue.includes(n)) {
        this.#queue.push(n);
        this.taken.push({ batchNo: n, moId: decodeBatch([...dm.subarray(base, base + BATCH_WORDS)]).moId });
      }
    }
    this.#pump();
  }

  #pump(): void {
    if (this.mode === 'program') return;
    if (this.#mixing && !this.#mixing.timer) this.#arm(this.#mixing);
    if (this.#mixing || this.#queue.length === 0) return;
    const batch = this.#queue.shift()!;
    this.#arm({ batch, dueAt: 0, remaining: this.mixingMs / this.timeScale });
  }

  #arm(m: Mixing): void {
    this.#mixing = m;
    m.dueAt = this.#clock.monotonic() + m.remaining;
    m.timer = this.#clock.setTimeout(() => {
      this.#mixing = null;
      this.#finish(m.batch, false);
      this.#pump();
    }, m.remaining);
  }

  #finish(batchNo: number, failed: boolean): void {
    const base = batchAddress(batchNo);
    const dm = this.#memory.get('DM')!;
    const block = decodeBatch([...dm.subarray(base, base + BATCH_WORDS)]);
    const weight = Object.values(block.consumption).reduce((a, b) => a + b, 0);
    dm[base + OFFSET.statusManufacturing] = 1;
    dm[base + OFFSET.statusOperation] = failed ? 1 : 0;
    dm.set(encodeScaled(Math.min(weight, 42_949_672.95)), base + OFFSET.weightFinished);
    dm[base + OFFSET.statusReadData] = 0;
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
