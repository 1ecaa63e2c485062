// Incremental bucketing for GET /api/history: rows arrive in any order (a segment holds late rows
// where they were appended), each lands in its epoch-aligned bucket; memory grows with buckets, not rows.
import { addExact, exactValue, mergeExact } from '../../../core/history/exact-sum.ts';
import { floorDiv, type SegmentSummary } from '../../../core/history/summary.ts';
import type { HistoryRecord } from '../../../core/history/types.ts';
import type { Agg } from './params.ts';

/**
 * Per key and bucket: count, exact sum (partials, so the average is the same however the rows were
 * grouped on the way), min, max, and the value with the latest ts (ties: later arrival).
 */
interface Cell {
  n: number;
  sum: number[];
  min: number;
  max: number;
  lastTs: number;
  last: unknown;
  seen: boolean;
}

export type BucketRow = Record<string, unknown> & { ts: number; time: string };

export class Bucketer {
  readonly #cells = new Map<number, Cell[]>();

  constructor(private readonly keys: readonly string[], private readonly stepMs: number) {}

  /** Buckets x keys held: the memory this Bucketer takes, in cells. */
  get cellCount(): number {
    return this.#cells.size * this.keys.length;
  }

  #bucket(b: number): Cell[] {
    let cells = this.#cells.get(b);
    if (!cells) this.#cells.set(b, (cells = this.keys.map(() => ({ n: 0, sum: [], min: Infinity, max: -Infinity, lastTs: -Infinity, last: null, seen: false }))));
    return cells;
  }

  add(record: HistoryRecord): void {
    const cells = this.#bucket(floorDiv(record.ts, this.stepMs));
    for (let i = 0; i < this.keys.length; i++) {
      const v = record.data[this.keys[i]];
      if (v === undefined || v === null) continue;
      const c = cells[i];
      if (record.ts >= c.lastTs) {
        c.lastTs = record.ts;
        c.last = v;
      }
      c.seen = true;
      const x = typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : Number.NaN;
      if (!Number.isFinite(x)) continue;
      c.n++;
      addExact(c.sum, x);
      if (x < c.min) c.min = x;
      if (x > c.max) c.max = x;
    }
  }

  /** Folds in another Bucketer's cells: same keys, a step that divides this one's (a rollup). */
  merge(other: Bucketer): void {
    for (const [ob, ocells] of other.#cells) {
      const cells = this.#bucket(floorDiv(ob * other.stepMs, this.stepMs));
      for (let i = 0; i < cells.length; i++) {
        const c = cells[i];
        const o = ocells[i];
        if (!o.seen) continue;
        if (o.lastTs >= c.lastTs) {
          c.lastTs = o.lastTs;
          c.last = o.last;
        }
        c.seen = true;
        c.n += o.n;
        mergeExact(c.sum, o.sum);
        if (o.min < c.min) c.min = o.min;
        if (o.max > c.max) c.max = o.max;
      }
    }
  }

  /**
   * Folds in a segment summary (its resolution must divide this step): the same buckets and values
   * as adding the segment's rows one by one. False, with nothing folded, when a key may be missing
   * from it (a segment with too many keys): read that segment's rows instead.
   */
  addSummary(s: SegmentSummary): boolean {
    if (this.stepMs % s.resolutionMs !== 0) return false;
    const keyCells = this.keys.map((k) => s.keys.get(k));
    if (s.truncated && keyCells.some((k) => k === undefined)) return false;
    const res = s.resolutionMs;
    const step = this.stepMs;
    // Neighbouring cells share a bucket: it is looked up once per run of them.
    let lastB = Number.NaN;
    let cells: Cell[] = [];
    const rowCells = s.rows.cell;
    for (let j = 0; j < rowCells.length; j++) {
      const b = floorDiv(rowCells[j] * res, step);
      if (b !== lastB) this.#bucket((lastB = b));
    }
    for (let i = 0; i < keyCells.length; i++) {
      const k = keyCells[i];
      if (!k) continue;
      const { cell, n, min, max, lastTs, last, sumStart, sumParts } = k;
      lastB = Number.NaN;
      for (let j = 0; j < cell.length; j++) {
        const b = floorDiv(cell[j] * res, step);
        if (b !== lastB) cells = this.#bucket((lastB = b));
        const c = cells[i];
        if (lastTs[j] >= c.lastTs) {
          c.lastTs = lastTs[j];
          c.last = last[j];
        }
        c.seen = true;
        if (n[j] === 0) continue;
        c.n += n[j];
        for (let p = sumStart[j]; p < sumStart[j + 1]; p++) addExact(c.sum, sumParts[p]);
        if (min[j] < c.min) c.min = min[j];
        if (max[j] > c.max) c.max = max[j];
      }
    }
    return true;
  }

  /**
   * Buckets holding at least one row, oldest first. `ts` is the bucket start in epoch seconds.
   * With `agg`, one column per key; without, `<key>_min/_max/_avg/_last/_count`.
   */
  rows(agg: Agg | undefined): BucketRow[] {
    const out: BucketRow[] = [];
    for (const b of [...this.#cells.keys()].sort((x, y) => x - y)) {
      const startMs = b * this.stepMs;
      const row: BucketRow = { ts: startMs / 1000, time: new Date(startMs).toISOString() };
      this.#cells.get(b)!.forEach((c, i) => {
        const key = this.keys[i];
        const num = c.n > 0;
        const v = { min: num ? c.min : null, max: num ? c.max : null, avg: num ? exactValue(c.sum) / c.n : null, last: c.seen ? c.last : null };
        if (agg) row[key] = v[agg];
        else {
          row[`${key}_min`] = v.min;
          row[`${key}_max`] = v.max;
          row[`${key}_avg`] = v.avg;
          row[`${key}_last`] = v.last;
          row[`${key}_count`] = c.n;
        }
      });
      out.push(row);
    }
    return out;
  }

  /** Column names of rows(agg), for the CSV header of an empty answer too. */
  columns(agg: Agg | undefined): string[] {
    const cols = ['ts', 'time'];
    for (const k of this.keys) {
      if (agg) cols.push(k);
      else cols.push(`${k}_min`, `${k}_max`, `${k}_avg`, `${k}_last`, `${k}_count`);
    }
    return cols;
  }
}
