// Segment summaries: a closed segment folded, per key and fixed cell of SUMMARY_RESOLUTION_MS, into
// count, min, max, exact sum and first/last with their times, kept in a small `<start>.sum` sidecar
// so a long bucketed query merges cells instead of parsing every row. Format in docs/history-summaries.md.
import { crc32Bytes } from '../crc32.ts';
import { addExact } from './exact-sum.ts';
import type { HistoryRecord } from './types.ts';

/** Cell width: 12 s divides every step that is a whole minute, and 2,592 s (30 days in 1,000 buckets). */
export const SUMMARY_RESOLUTION_MS = 12_000;
/** Keys summarised per segment; a segment with more is marked `truncated` and other keys read rows. */
export const SUMMARY_MAX_KEYS = 64;
export const SUMMARY_VERSION = 1;
const MAGIC = 0x53484746; // "FGHS" little-endian
const HEADER = 16;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** One key's cells, oldest first, as columns. Cell i covers [cellStart(i), cellStart(i) + resolutionMs). */
export interface KeyCells {
  /** Absolute cell numbers: the cell starts at cell * resolutionMs (ms since the epoch). */
  cell: number[];
  /** Numeric values (numbers, booleans as 0/1) in the cell; min/max are +/-Infinity when 0. */
  n: number[];
  min: number[];
  max: number[];
  /** Exact partial sums (see exact-sum.ts) of the numeric values. */
  sum: number[][];
  /** Earliest and latest non-null value and their ts (ties: first and last appended). */
  firstTs: number[];
  first: unknown[];
  lastTs: number[];
  last: unknown[];
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
  rows: { cell: number[]; n: number[] };
  /** The segment had more than SUMMARY_MAX_KEYS keys: a key not listed may still be in its rows. */
  truncated: boolean;
  keys: Map<string, KeyCells>;
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

  constructor(readonly start: number, readonly segmentMs: number, readonly resolutionMs = SUMMARY_RESOLUTION_MS) {}

  add(record: HistoryRecord): void {
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
      const k: KeyCells = { cell: [], n: [], min: [], max: [], sum: [], firstTs: [], first: [], lastTs: [], last: [] };
      for (const c of [...cells.keys()].sort((a, b) => a - b)) {
        const cell = cells.get(c)!;
        k.cell.push(c);
        k.n.push(cell.n);
        k.min.push(cell.min);
        k.max.push(cell.max);
        k.sum.push(cell.sum);
        k.firstTs.push(cell.firstTs);
        k.first.push(cell.first);
        k.lastTs.push(cell.lastTs);
        k.last.push(cell.last);
      }
      keys.set(key, k);
    }
    const cells = [...this.#rows.keys()].sort((a, b) => a - b);
    const rows = { cell: cells, n: cells.map((c) => this.#rows.get(c)!) };
    return { start: this.start, segmentMs: this.segmentMs, resolutionMs: this.resolutionMs, segmentBytes, records: this.#records, minTs: this.#minTs, maxTs: this.#maxTs, rows, truncated: this.#truncated, keys };
  }
}

/** The sidecar bytes: a 16-byte header (magic, version, CRC-32 and length of the body), then the body. */
export function encodeSummary(s: SegmentSummary): Uint8Array {
  const w = new Writer();
  w.u32(MAGIC).u16(SUMMARY_VERSION).u16(0).u32(0).u32(0);
  w.f64(s.start).f64(s.segmentMs).f64(s.resolutionMs).f64(s.segmentBytes).f64(s.records).f64(s.minTs).f64(s.maxTs).u8(s.truncated ? 1 : 0);
  const rowBase = s.rows.cell.length ? s.rows.cell[0] : 0;
  w.u32(s.rows.cell.length).f64(rowBase);
  for (const c of s.rows.cell) w.u32(c - rowBase);
  for (const n of s.rows.n) w.u32(n);
  w.u32(s.keys.size);
  for (const [name, k] of s.keys) {
    const bytes = encoder.encode(name);
    w.u32(bytes.length).bytes(bytes);
    const m = k.cell.length;
    const base = m ? k.cell[0] : 0;
    const numeric = k.first.every((v) => typeof v === 'number') && k.last.every((v) => typeof v === 'number');
    w.u32(m).f64(base).u8(numeric ? 0 : 1);
    for (const c of k.cell) w.u32(c - base);
    for (const x of k.n) w.u32(x);
    for (const col of [k.min, k.max, k.firstTs, k.lastTs]) for (const x of col) w.f64(x);
    for (const parts of k.sum) w.u8(parts.length);
    for (const parts of k.sum) for (const x of parts) w.f64(x);
    if (numeric) for (const col of [k.first, k.last]) for (const x of col) w.f64(x as number);
    else {
      const json = encoder.encode(JSON.stringify([k.first, k.last]));
      w.u32(json.length).bytes(json);
    }
  }
  const out = w.done();
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(8, crc32Bytes(out, HEADER), true);
  view.setUint32(12, out.length - HEADER, true);
  return out;
}

/** Reads a sidecar; throws an Error saying what is wrong with it (caller falls back to the segment). */
export function decodeSummary(bytes: Uint8Array): SegmentSummary {
  if (bytes.length < HEADER) throw new Error(`too short (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new Error('not a summary file (bad magic)');
  const version = view.getUint16(4, true);
  if (version !== SUMMARY_VERSION) throw new Error(`format version ${version}, this build reads ${SUMMARY_VERSION}`);
  const length = view.getUint32(12, true);
  if (length !== bytes.length - HEADER) throw new Error(`body is ${bytes.length - HEADER} bytes, header says ${length} (torn write?)`);
  if (crc32Bytes(bytes, HEADER) !== view.getUint32(8, true)) throw new Error('CRC mismatch');
  const r = new Reader(view, HEADER);
  const s: SegmentSummary = {
    start: r.f64(),
    segmentMs: r.f64(),
    resolutionMs: r.f64(),
    segmentBytes: r.f64(),
    records: r.f64(),
    minTs: r.f64(),
    maxTs: r.f64(),
    truncated: r.u8() === 1,
    rows: { cell: [], n: [] },
    keys: new Map(),
  };
  const rowCells = r.u32();
  const rowBase = r.f64();
  s.rows = { cell: r.list(rowCells, () => rowBase + r.u32()), n: r.list(rowCells, () => r.u32()) };
  for (let keys = r.u32(); keys > 0; keys--) {
    const name = decoder.decode(r.bytes(r.u32()));
    const m = r.u32();
    const base = r.f64();
    const numeric = r.u8() === 0;
    const k: KeyCells = { cell: r.list(m, () => base + r.u32()), n: r.list(m, () => r.u32()), min: r.f64s(m), max: r.f64s(m), firstTs: r.f64s(m), lastTs: r.f64s(m), sum: [], first: [], last: [] };
    const counts = r.list(m, () => r.u8());
    k.sum = counts.map((c) => r.f64s(c));
    if (numeric) {
      k.first = r.f64s(m);
      k.last = r.f64s(m);
    } else {
      const parsed = JSON.parse(decoder.decode(r.bytes(r.u32()))) as unknown;
      if (!Array.isArray(parsed) || !Array.isArray(parsed[0]) || !Array.isArray(parsed[1]) || parsed[0].length !== m || parsed[1].length !== m) {
        throw new Error(`key "${name}": value table does not match its ${m} cells`);
      }
      k.first = parsed[0] as unknown[];
      k.last = parsed[1] as unknown[];
    }
    s.keys.set(name, k);
  }
  if (r.at !== bytes.length) throw new Error(`${bytes.length - r.at} stray byte(s) after the last key`);
  return s;
}

class Writer {
  #buf = new Uint8Array(4096);
  #view = new DataView(this.#buf.buffer);
  #at = 0;

  #room(n: number): void {
    if (this.#at + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#at + n));
    next.set(this.#buf.subarray(0, this.#at));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  u8(x: number): this {
    this.#room(1);
    this.#view.setUint8(this.#at, x);
    this.#at += 1;
    return this;
  }

  u16(x: number): this {
    this.#room(2);
    this.#view.setUint16(this.#at, x, true);
    this.#at += 2;
    return this;
  }

  u32(x: number): this {
    this.#room(4);
    this.#view.setUint32(this.#at, x, true);
    this.#at += 4;
    return this;
  }

  f64(x: number): this {
    this.#room(8);
    this.#view.setFloat64(this.#at, x, true);
    this.#at += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.#room(b.length);
    this.#buf.set(b, this.#at);
    this.#at += b.length;
    return this;
  }

  done(): Uint8Array {
    return this.#buf.slice(0, this.#at);
  }
}

class Reader {
  constructor(readonly view: DataView, public at: number) {}

  #need(n: number): number {
    const at = this.at;
    if (at + n > this.view.byteLength) throw new Error(`truncated at byte ${at}`);
    this.at += n;
    return at;
  }

  u8(): number {
    return this.view.getUint8(this.#need(1));
  }

  u32(): number {
    return this.view.getUint32(this.#need(4), true);
  }

  f64(): number {
    return this.view.getFloat64(this.#need(8), true);
  }

  f64s(m: number): number[] {
    const at = this.#need(8 * m);
    const out = new Array<number>(m);
    for (let i = 0; i < m; i++) out[i] = this.view.getFloat64(at + 8 * i, true);
    return out;
  }

  list(m: number, read: () => number): number[] {
    if (m > this.view.byteLength) throw new Error(`implausible count ${m} at byte ${this.at}`);
    const out = new Array<number>(m);
    for (let i = 0; i < m; i++) out[i] = read();
    return out;
  }

  bytes(n: number): Uint8Array {
    const at = this.#need(n);
    return new Uint8Array(this.view.buffer, this.view.byteOffset + at, n);
  }
}
