// Incremental bucketing for GET /api/history: rows arrive in any order (a segment holds late rows
// where they were appended), each lands in its epoch-aligned bucket; memory grows with buckets, not rows.
import type { HistoryRecord } from '../../../core/history/types.ts';
import type { Agg } from './params.ts';

/** Per key and bucket: count, sum, min, max, and the value with the latest ts (ties: later arrival). */
interface Cell {
  n: number;
  sum: number;
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

  add(record: HistoryRecord): void {
    const b = Math.floor(record.ts / this.stepMs);
    let cells = this.#cells.get(b);
    if (!cells) this.#cells.set(b, (cells = this.keys.map(() => ({ n: 0, sum: 0, min: Infinity, max: -Infinity, lastTs: -Infinity, last: null, seen: false }))));
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
      c.sum += x;
      if (x < c.min) c.min = x;
      if (x > c.max) c.max = x;
    }
  }

  /** Folds in another Bucketer's cells: same keys, a step that divides this one's (a rollup). */
  merge(other: Bucketer): void {
    for (const [ob, ocells] of other.#cells) {
      const b = Math.floor((ob * other.stepMs) / this.stepMs);
      let cells = this.#cells.get(b);
      if (!cells) this.#cells.set(b, (cells = this.keys.map(() => ({ n: 0, sum: 0, min: Infinity, max: -Infinity, lastTs: -Infinity, last: null, seen: false }))));
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
        c.sum += o.sum;
        if (o.min < c.min) c.min = o.min;
        if (o.max > c.max) c.max = o.max;
      }
    }
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
        const v = { min: num ? c.min : null, max: num ? c.max : null, avg: num ? c.sum / c.n : null, last: c.seen ? c.last : null };
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
