// Segment summaries: a closed segment folded, per key and fixed cell of SUMMARY_RESOLUTION_MS, into
// count, min, max, exact sum and first/last with their times, kept in a small `<start>.sum` sidecar
// so a long bucketed query merges cells instead of parsing every row. Format in docs/history-summaries.md.
import { crc32Bytes } from '../crc32.ts';
import { addExact } from './exact-sum.ts';
import type { HistoryRecord } from './types.ts';

/** Cell width: 12 s divides every step that is a whole minute, and 2,592 s (30 days in 1,000 buckets). */
export const SUMMARY_RESOLUTION_MS = 12_000;
/**
 * A second, coarser level in the same sidecar: 144 s divides every whole hour and 2,592 s too, so a
 * long range merges 12x fewer cells. Steps that are a multiple of it use it.
 */
export const SUMMARY_COARSE_MS = 144_000;
/** Keys summarised per segment; a segment with more is marked `truncated` and other keys read rows. */
export const SUMMARY_MAX_KEYS = 64;
export const SUMMARY_VERSION = 1;
const MAGIC = 0x53484746; // "FGHS" little-endian
const HEADER = 16;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * One key's cells, oldest first, as columns (typed arrays straight over the file's bytes when read).
 * Cell j covers [cell[j] * resolutionMs, (cell[j] + 1) * resolutionMs).
 */
export interface KeyCells {
  /** Absolute cell numbers: the cell starts at cell * resolutionMs (ms since the epoch). */
  cell: ArrayLike<number>;
  /** Numeric values (numbers, booleans as 0/1) in the cell; min/max are +/-Infinity when 0. */
  n: ArrayLike<number>;
  min: ArrayLike<number>;
  max: ArrayLike<number>;
  /** Exact partial sums (see exact-sum.ts) of cell j: sumParts[sumStart[j] .. sumStart[j + 1]). */
  sumStart: ArrayLike<number>;
  sumParts: ArrayLike<number>;
  /** Earliest and latest non-null value and their ts (ties: first and last appended). */
  firstTs: ArrayLike<number>;
  first: ArrayLike<unknown>;
  lastTs: ArrayLike<number>;
  last: ArrayLike<unknown>;
}

/** The partials of cell j's exact sum. */
export function cellSum(k: KeyCells, j: number): number[] {
  const out: number[] = [];
  for (let i = k.sumStart[j]; i < k.sumStart[j + 1]; i++) out.push(k.sumParts[i]);
  return out;
}

export interface SegmentSummary {
  start: number;
  segmentMs: number;
  resolutionMs: number;
  /** Bytes of the segment file summarised: the summary holds only while the file has exactly this size. */
  segmentBytes: number;
  records: number;
  /** Smallest and largest ts of its rows (+Infinity and -Infinity without rows). */
  minTs: number;
  maxTs: number;
  /** Rows per cell whatever their keys, so a bucket holding rows without the asked keys still shows. */
  rows: { cell: ArrayLike<number>; n: ArrayLike<number> };
  /** The segment had more than SUMMARY_MAX_KEYS keys: a key not listed may still be in its rows. */
  truncated: boolean;
  keys: Map<string, KeyCells>;
  /** The same rows at SUMMARY_COARSE_MS (absent in the coarse level itself). */
  coarse?: SegmentSummary;
}

/** The level of `s` to merge for buckets of `stepMs`: the coarsest whose cells divide the step, or null. */
export function summaryLevel(s: SegmentSummary, stepMs: number): SegmentSummary | null {
  if (s.coarse && stepMs % s.coarse.resolutionMs === 0) return s.coarse;
  return stepMs % s.resolutionMs === 0 ? s : null;
}

/** floor(a / b) exactly, also where a / b rounds up onto an integer (fractional ms timestamps). */
export function floorDiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  if (q * b > a) q--;
  else if ((q + 1) * b <= a) q++;
  return q;
}

interface Cell {
  n: number;
  min: number;
  max: number;
  sum: number[];
  firstTs: number;
  first: unknown;
  lastTs: number;
  last: unknown;
}

/** Folds records (in the order they were appended) into a SegmentSummary. */
export class SummaryBuilder {
  readonly #keys = new Map<string, Map<number, Cell>>();
  readonly #rows = new Map<number, number>();
  #records = 0;
  #minTs = Infinity;
  #maxTs = -Infinity;
  #truncated = false;

  readonly #coarse: SummaryBuilder | null;

  constructor(readonly start: number, readonly segmentMs: number, readonly resolutionMs = SUMMARY_RESOLUTION_MS) {
    this.#coarse = resolutionMs === SUMMARY_RESOLUTION_MS ? new SummaryBuilder(start, segmentMs, SUMMARY_COARSE_MS) : null;
  }

  add(record: HistoryRecord): void {
    this.#coarse?.add(record);
    this.#records++;
    if (record.ts < this.#minTs) this.#minTs = record.ts;
    if (record.ts > this.#maxTs) this.#maxTs = record.ts;
    const c = floorDiv(record.ts, this.resolutionMs);
    this.#rows.set(c, (this.#rows.get(c) ?? 0) + 1);
    for (const key in record.data) {
      const v = record.data[key];
      if (v === undefined || v === null) continue;
      let cells = this.#keys.get(key);
      if (!cells) {
        if (this.#keys.size >= SUMMARY_MAX_KEYS) {
          this.#truncated = true;
          continue;
        }
        this.#keys.set(key, (cells = new Map()));
      }
      let cell = cells.get(c);
      if (!cell) cells.set(c, (cell = { n: 0, min: Infinity, max: -Infinity, sum: [], firstTs: record.ts, first: v, lastTs: record.ts, last: v }));
      else {
        if (record.ts < cell.firstTs) {
          cell.firstTs = record.ts;
          cell.first = v;
        }
        if (record.ts >= cell.lastTs) {
          cell.lastTs = record.ts;
          cell.last = v;
        }
      }
      const x = typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : Number.NaN;
      if (!Number.isFinite(x)) continue;
      cell.n++;
      addExact(cell.sum, x);
      if (x < cell.min) cell.min = x;
      if (x > cell.max) cell.max = x;
    }
  }

  finish(segmentBytes: number): SegmentSummary {
    const keys = new Map<string, KeyCells>();
    for (const [key, cells] of this.#keys) {
      const order = [...cells.keys()].sort((a, b) => a - b);
      const list = order.map((c) => cells.get(c)!);
      const sumStart = [0];
      const sumParts: number[] = [];
      for (const cell of list) {
        sumParts.push(...cell.sum);
        sumStart.push(sumParts.length);
      }
      keys.set(key, {
        cell: order,
        n: list.map((c) => c.n),
        min: list.map((c) => c.min),
        max: list.map((c) => c.max),
        sumStart,
        sumParts,
        firstTs: list.map((c) => c.firstTs),
        first: list.map((c) => c.first),
        lastTs: list.map((c) => c.lastTs),
        last: list.map((c) => c.last),
      });
    }
    const cells = [...this.#rows.keys()].sort((a, b) => a - b);
    const rows = { cell: cells, n: cells.map((c) => this.#rows.get(c)!) };
    const out: SegmentSummary = { start: this.start, segmentMs: this.segmentMs, resolutionMs: this.resolutionMs, segmentBytes, records: this.#records, minTs: this.#minTs, maxTs: this.#maxTs, rows, truncated: this.#truncated, keys };
    if (this.#coarse) out.coarse = this.#coarse.finish(segmentBytes);
    return out;
  }
}

/**
 * The sidecar bytes: a 16-byte header (magic, version, CRC-32 and length of the body), then the
 * body. Number columns start on a multiple of their width, so a reader maps them without copying.
 */
export function encodeSummary(s: SegmentSummary): Uint8Array {
  const w = new Writer();
  w.u32(MAGIC).u16(SUMMARY_VERSION).u16(0).u32(0).u32(0);
  writeLevel(w, s);
  // The coarse level follows the fine one; a reader of either finds the other by position.
  if (s.coarse) writeLevel(w, s.coarse);
  const out = w.done();
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(8, crc32Bytes(out, HEADER), true);
  view.setUint32(12, out.length - HEADER, true);
  return out;
}

function writeLevel(w: Writer, s: SegmentSummary): void {
  w.align(8).f64(s.start).f64(s.segmentMs).f64(s.resolutionMs).f64(s.segmentBytes).f64(s.records).f64(s.minTs).f64(s.maxTs);
  w.u32(s.truncated ? 1 : 0).u32(s.rows.cell.length).u32(s.keys.size);
  w.f64s(s.rows.cell).u32s(s.rows.n);
  for (const [name, k] of s.keys) {
    const bytes = encoder.encode(name);
    const m = k.cell.length;
    const numeric = isNumbers(k.first) && isNumbers(k.last);
    w.u32(bytes.length).bytes(bytes).align(4);
    w.u32(m).u32(numeric ? 0 : 1).u32(k.sumParts.length);
    w.u32s(k.n).u32s(k.sumStart);
    w.f64s(k.cell).f64s(k.min).f64s(k.max).f64s(k.firstTs).f64s(k.lastTs).f64s(k.sumParts);
    if (numeric) w.f64s(k.first as ArrayLike<number>).f64s(k.last as ArrayLike<number>);
    else {
      const json = encoder.encode(JSON.stringify([Array.from(k.first), Array.from(k.last)]));
      w.u32(json.length).bytes(json).align(4);
    }
  }
}

function isNumbers(xs: ArrayLike<unknown>): boolean {
  for (let i = 0; i < xs.length; i++) if (typeof xs[i] !== 'number') return false;
  return true;
}

/** Reads a sidecar; throws an Error saying what is wrong with it (caller falls back to the segment). */
export function decodeSummary(input: Uint8Array): SegmentSummary {
  // Columns are typed arrays over these bytes, so they must start 8-aligned (a copy if not).
  const bytes = input.byteOffset % 8 === 0 ? input : input.slice();
  if (bytes.length < HEADER) throw new Error(`too short (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new Error('not a summary file (bad magic)');
  const version = view.getUint16(4, true);
  if (version !== SUMMARY_VERSION) throw new Error(`format version ${version}, this build reads ${SUMMARY_VERSION}`);
  const length = view.getUint32(12, true);
  if (length !== bytes.length - HEADER) throw new Error(`body is ${bytes.length - HEADER} bytes, header says ${length} (torn write?)`);
  if (crc32Bytes(bytes, HEADER) !== view.getUint32(8, true)) throw new Error('CRC mismatch');
  const r = new Reader(bytes, HEADER);
  const s = readLevel(r);
  if (r.at < bytes.length) s.coarse = readLevel(r);
  if (r.at !== bytes.length) throw new Error(`${bytes.length - r.at} stray byte(s) after the last key`);
  return s;
}

function readLevel(r: Reader): SegmentSummary {
  const head = r.f64s(7);
  const [truncated, rowCells, keyCount] = r.u32s(3);
  const s: SegmentSummary = {
    start: head[0],
    segmentMs: head[1],
    resolutionMs: head[2],
    segmentBytes: head[3],
    records: head[4],
    minTs: head[5],
    maxTs: head[6],
    truncated: truncated === 1,
    rows: { cell: r.f64s(rowCells), n: r.u32s(rowCells) },
    keys: new Map(),
  };
  for (let i = 0; i < keyCount; i++) {
    const name = decoder.decode(r.bytes(r.u32s(1)[0], 4));
    const [m, mode, parts] = r.u32s(3);
    const n = r.u32s(m);
    const sumStart = r.u32s(m + 1);
    if (sumStart[m] !== parts) throw new Error(`key "${name}": sum table holds ${parts} partials, cells point at ${sumStart[m]}`);
    const k: KeyCells = { n, sumStart, cell: r.f64s(m), min: r.f64s(m), max: r.f64s(m), firstTs: r.f64s(m), lastTs: r.f64s(m), sumParts: r.f64s(parts), first: [], last: [] };
    if (mode === 0) {
      k.first = r.f64s(m);
      k.last = r.f64s(m);
    } else {
      const parsed = JSON.parse(decoder.decode(r.bytes(r.u32s(1)[0], 4))) as unknown;
      if (!Array.isArray(parsed) || !Array.isArray(parsed[0]) || !Array.isArray(parsed[1]) || parsed[0].length !== m || parsed[1].length !== m) {
        throw new Error(`key "${name}": value table does not match its ${m} cells`);
      }
      k.first = parsed[0] as unknown[];
      k.last = parsed[1] as unknown[];
    }
    s.keys.set(name, k);
  }
  return s;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

class Writer {
  #buf = new Uint8Array(4096);
  #view = new DataView(this.#buf.buffer);
  #at = 0;

  #room(n: number): number {
    if (this.#at + n > this.#buf.length) {
      const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#at + n));
      next.set(this.#buf.subarray(0, this.#at));
      this.#buf = next;
      this.#view = new DataView(next.buffer);
    }
    const at = this.#at;
    this.#at += n;
    return at;
  }

  align(to: number): this {
    this.#room((to - (this.#at % to)) % to);
    return this;
  }

  u16(x: number): this {
    const at = this.#room(2); // before reading #view: room() may replace it
    this.#view.setUint16(at, x, true);
    return this;
  }

  u32(x: number): this {
    const at = this.#room(4);
    this.#view.setUint32(at, x, true);
    return this;
  }

  f64(x: number): this {
    const at = this.#room(8);
    this.#view.setFloat64(at, x, true);
    return this;
  }

  u32s(xs: ArrayLike<number>): this {
    this.align(4);
    for (let i = 0; i < xs.length; i++) this.u32(xs[i]);
    return this;
  }

  f64s(xs: ArrayLike<number>): this {
    this.align(8);
    for (let i = 0; i < xs.length; i++) this.f64(xs[i]);
    return this;
  }

  bytes(b: Uint8Array): this {
    const at = this.#room(b.length);
    this.#buf.set(b, at);
    return this;
  }

  done(): Uint8Array {
    return this.#buf.slice(0, this.#at);
  }
}

class Reader {
  readonly #view: DataView;

  constructor(readonly buf: Uint8Array, public at: number) {
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  #take(n: number, align: number): number {
    this.at += (align - (this.at % align)) % align;
    const at = this.at;
    if (!(n >= 0) || at + n > this.buf.length) throw new Error(`truncated at byte ${at} (wants ${n} more)`);
    this.at += n;
    return at;
  }

  u32s(m: number): ArrayLike<number> & Iterable<number> {
    const at = this.#take(4 * m, 4);
    if (LITTLE_ENDIAN) return new Uint32Array(this.buf.buffer, this.buf.byteOffset + at, m);
    return Array.from({ length: m }, (_, i) => this.#view.getUint32(at + 4 * i, true));
  }

  f64s(m: number): ArrayLike<number> {
    const at = this.#take(8 * m, 8);
    if (LITTLE_ENDIAN) return new Float64Array(this.buf.buffer, this.buf.byteOffset + at, m);
    return Array.from({ length: m }, (_, i) => this.#view.getFloat64(at + 8 * i, true));
  }

  /** `n` bytes, then skips to the next multiple of `align`. */
  bytes(n: number, align: number): Uint8Array {
    const at = this.#take(n, 1);
    this.at += (align - (this.at % align)) % align;
    return this.buf.subarray(at, at + n);
  }
}
