// An Omron CJ2M CPU on FINS/UDP loopback (the memory and FINS commands are sim/fins-server.ts) with
// the mixing line's PLC program: a batch block written at D7000 + 100(n-1)
// (plugins/odoo-sync/plc-layout.ts) is mixed for `mixingMs` of process time, one batch at a time,
// then flagged finished. Test hooks beyond the server's: force a batch done, see what was taken.
import type { TimerHandle } from '../core/clock.ts';
import type { FinsArea } from '../adapters/fins/types.ts';
import { BATCH_BASE, BATCH_STRIDE, BATCH_WORDS, batchAddress, batchAt, decodeBatch, encodeScaled, MAX_BATCH_NO, OFFSET } from '../plugins/odoo-sync/plc-layout.ts';
import { FinsServer, type FinsRequestRecord, type FinsServerOptions } from './fins-server.ts';

export { CJ2M_AREA_WORDS, type ReplyCorruption } from './fins-server.ts';

interface Mixing {
  batch: number;
  timer?: TimerHandle;
  /** Clock-monotonic time the batch finishes (while armed). */
  dueAt: number;
  /** Clock milliseconds left when (re)armed. */
  remaining: number;
}

export type Cj2mRequestRecord = FinsRequestRecord;

export interface Cj2mOptions extends FinsServerOptions {
  /** Process seconds per clock second. Default 1. */
  timeScale?: number;
  /** Mixing time of one batch in process milliseconds. Default 60 000. */
  mixingMs?: number;
}

export class Cj2mSimulator extends FinsServer {
  /** Every batch the program took (word +0 set to n over an unfinished block), with its MO: what was mixed. */
  readonly taken: Array<{ batchNo: number; moId: string }> = [];
  timeScale: number;
  mixingMs: number;
  readonly #queue: number[] = [];
  #mixing: Mixing | null = null;

  constructor(options: Cj2mOptions = {}) {
    super(options);
    this.timeScale = options.timeScale ?? 1;
    this.mixingMs = options.mixingMs ?? 60_000;
  }

  /** Batches waiting behind the one being mixed. */
  get queued(): readonly number[] {
    return [...this.#queue];
  }

  /** The batch in the mixer, or null. */
  get mixing(): number | null {
    return this.#mixing?.batch ?? null;
  }

  /** Stops and cancels the mixing timer. */
  override async close(): Promise<void> {
    if (this.#mixing?.timer) this.clock.clearTimeout(this.#mixing.timer);
    this.#mixing = null;
    this.#queue.length = 0;
    await this.stop();
  }

  /** Ends batch n now (queued or mixing), as if its mixing time had passed; `failed` sets status_operation. */
  forceDone(batchNo: number, options: { failed?: boolean } = {}): void {
    const i = this.#queue.indexOf(batchNo);
    if (i >= 0) this.#queue.splice(i, 1);
    if (this.#mixing?.batch === batchNo) {
      if (this.#mixing.timer) this.clock.clearTimeout(this.#mixing.timer);
      this.#mixing = null;
    }
    this.#finish(batchNo, options.failed ?? false);
    this.#pump();
  }

  protected override afterWrite(area: FinsArea, address: number, count: number): void {
    if (area === 'DM') this.#afterDmWrite(address, count);
  }

  protected override modeChanged(previous: FinsServer['mode']): void {
    const m = this.#mixing;
    if (previous !== 'program' && this.mode === 'program' && m?.timer) {
      // PROGRAM mode stops the program: the mixer pauses and resumes where it was.
      this.clock.clearTimeout(m.timer);
      m.timer = undefined;
      m.remaining = Math.max(0, m.dueAt - this.clock.monotonic());
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
      const dm = this.area('DM');
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
    m.dueAt = this.clock.monotonic() + m.remaining;
    m.timer = this.clock.setTimeout(() => {
      this.#mixing = null;
      this.#finish(m.batch, false);
      this.#pump();
    }, m.remaining);
  }

  #finish(batchNo: number, failed: boolean): void {
    const base = batchAddress(batchNo);
    const dm = this.area('DM');
    const block = decodeBatch([...dm.subarray(base, base + BATCH_WORDS)]);
    const weight = Object.values(block.consumption).reduce((a, b) => a + b, 0);
    dm[base + OFFSET.statusManufacturing] = 1;
    dm[base + OFFSET.statusOperation] = failed ? 1 : 0;
    dm.set(encodeScaled(Math.min(weight, 42_949_672.95)), base + OFFSET.weightFinished);
    dm[base + OFFSET.statusReadData] = 0;
  }
}
