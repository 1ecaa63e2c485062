// Bucketing a range of a history series without parsing a closed month on every request: a closed
// segment is folded once into cells of 60 s (or 30/20/15/12/10 s, the largest dividing the step),
// taken from the store's segment summary (its `.sum` sidecar, written when the segment closed) when
// the step is a multiple of the summary's 12 s and no `where` filter applies, else from its rows;
// later answers merge the cached cells. Rows are read only for the open segment and partial edges.
import { SUMMARY_COARSE_MS, type SegmentSummary, summaryLevel, SUMMARY_RESOLUTION_MS } from '../../../core/history/summary.ts';
import type { HistoryRecord, HistorySegment, HistoryStore } from '../../../core/history/types.ts';
import { Bucketer } from './buckets.ts';

const ROLLUP_SECONDS = [60, 30, 20, 15, 12, 10];
/** Segment summaries read ahead while earlier ones merge: small files whose reads overlap. */
const READ_AHEAD = 16;

/** The cell width for a step: the largest of ROLLUP_SECONDS dividing it, or null (no rollup). */
export function rollupMs(stepMs: number): number | null {
  for (const s of ROLLUP_SECONDS) if (stepMs % (s * 1000) === 0) return s * 1000;
  return null;
}

/** A closed segment's cells (folded from its rows, or its summary as read), and the ts span of its rows. */
export interface Rollup {
  cells: Bucketer | SegmentSummary;
  /** Memory held, in cells (cells x keys). */
  cellCount: number;
  minTs: number;
  maxTs: number;
}

/**
 * The summary cut down to `keys` (sharing its arrays), and the cells it holds: a key's cell is ~10
 * numbers like a rollup cell; the per-cell row counts are 2 numbers, so 8 of them count as one.
 */
function project(s: SegmentSummary, keys: readonly string[]): { summary: SegmentSummary; cells: number } {
  // Without `coarse`: the cache holds the level in use only.
  const kept = new Map();
  let cells = Math.ceil(s.rows.cell.length / 8);
  for (const k of keys) {
    const c = s.keys.get(k);
    if (!c) continue;
    kept.set(k, c);
    cells += c.cell.length;
  }
  return { summary: { ...s, keys: kept, coarse: undefined }, cells };
}

/** Least recently used rollups go once the cells (buckets x keys) held pass `maxCells`. */
export class RollupCache {
  readonly #entries = new Map<string, Rollup>();
  #cells = 0;

  constructor(readonly maxCells: number) {}

  get(key: string): Rollup | undefined {
    const v = this.#entries.get(key);
    if (v) {
      this.#entries.delete(key);
      this.#entries.set(key, v);
    }
    return v;
  }

  set(key: string, value: Rollup): void {
    if (value.cellCount > this.maxCells) return;
    const old = this.#entries.get(key);
    if (old) this.#cells -= old.cellCount;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    this.#cells += value.cellCount;
    for (const [oldest, v] of this.#entries) {
      if (this.#cells <= this.maxCells) break;
      this.#entries.delete(oldest);
      this.#cells -= v.cellCount;
    }
  }

  get cells(): number {
    return this.#cells;
  }
}

export interface BucketRequest {
  from: number;
  to: number;
  keys: string[];
  stepMs: number;
  where?: Record<string, unknown>;
}

export function matchesWhere(r: HistoryRecord, where: Record<string, unknown> | undefined): boolean {
  if (where) for (const [k, v] of Object.entries(where)) if (r.data[k] !== v) return false;
  return true;
}

/** Buckets of [from, to]; memory: the buckets plus the cached rollups, never the rows. */
export async function bucketRange(history: HistoryStore, series: string, req: BucketRequest, cache: RollupCache): Promise<Bucketer> {
  const out = new Bucketer(req.keys, req.stepMs);
  const fold = async (target: Bucketer, from: number, to: number) => {
    for await (const batch of history.scan(series, { from, to })) {
      for (const r of batch) if (matchesWhere(r, req.where)) target.add(r);
    }
  };
  const cellMs = rollupMs(req.stepMs);
  const summaries = !req.where && req.stepMs % SUMMARY_RESOLUTION_MS === 0 && history.summary !== undefined;
  if (cellMs === null || (cache.maxCells <= 0 && !summaries)) {
    await fold(out, req.from, req.to);
    return out;
  }
  const level = req.stepMs % SUMMARY_COARSE_MS === 0 ? 'coarse' : 'fine';
  const tag = `${summaries ? level : cellMs}\u0000${req.keys.join(',')}\u0000${JSON.stringify(req.where ?? null)}`;
  const segs = await history.segments(series, { from: req.from, to: req.to });
  const ahead = summaries ? READ_AHEAD : 1;
  // Settled results, so a read failing ahead of its turn is not an unhandled rejection meanwhile.
  const next = (i: number) =>
    segs[i].version === null ? Promise.resolve({ ok: true as const, rollup: undefined })
    : rollupOf(segs[i], `${series}\u0000${segs[i].start}\u0000${segs[i].version}\u0000`).then(
        (rollup) => ({ ok: true as const, rollup }),
        (err: unknown) => ({ ok: false as const, err }),
      );
  const queue = segs.slice(0, ahead).map((_, i) => next(i));
  for (let i = 0; i < segs.length; i++) {
    const got = await queue.shift()!;
    if (i + ahead < segs.length) queue.push(next(i + ahead));
    if (!got.ok) throw got.err;
    const { rollup } = got;
    const seg = segs[i];
    // A summary holds whole segments: usable when all its rows are in range (also at a ragged edge).
    if (rollup && rollup.minTs >= req.from && rollup.maxTs <= req.to) {
      if (rollup.cells instanceof Bucketer) out.merge(rollup.cells);
      else out.addSummary(rollup.cells);
    } else await fold(out, Math.max(req.from, seg.start), Math.min(req.to, lastBefore(seg.end)));
  }
  return out;

  /** `segKey` names the segment version; the cached cells also depend on the keys (and step for rows). */
  async function rollupOf(seg: HistorySegment, segKey: string): Promise<Rollup | undefined> {
    const key = segKey + tag;
    let rollup = cache.get(key);
    if (rollup) return rollup;
    const read = summaries ? await history.summary!(series, seg.start) : null;
    const summary = read && summaryLevel(read, req.stepMs);
    if (summary && summaryFits(summary, req.keys)) {
      // As read: never older than `seg.version` (a late row only makes it newer), so cached under it.
      const { summary: mine, cells } = project(summary, req.keys);
      rollup = { cells: mine, cellCount: cells, minTs: summary.minTs, maxTs: summary.maxTs };
      cache.set(key, rollup);
      return rollup;
    }
    // No summary for this request: fold the rows of a segment wholly inside the range, once.
    const last = lastBefore(seg.end);
    if (cache.maxCells <= 0 || seg.start < req.from || last > req.to) return undefined;
    const cells = new Bucketer(req.keys, cellMs!);
    await fold(cells, seg.start, last);
    rollup = { cells, cellCount: cells.cellCount, minTs: seg.start, maxTs: last };
    // Cache only if no late row reached the segment while it was read.
    const now = await history.segments(series, { from: seg.start, to: seg.start });
    if (now[0]?.version === seg.version) cache.set(key, rollup);
    return rollup;
  }
}

/** A summary answers for `keys` unless one of them may be missing from it (too many keys to hold). */
function summaryFits(s: SegmentSummary, keys: readonly string[]): boolean {
  return (!s.truncated || keys.every((k) => s.keys.has(k)));
}

/** The largest double below `x`: a segment's last possible ts, also for fractional-ms timestamps. */
export function lastBefore(x: number): number {
  if (x === 0) return -Number.MIN_VALUE;
  const bits = new BigInt64Array(new Float64Array([x]).buffer);
  bits[0] += x > 0 ? -1n : 1n;
  return new Float64Array(bits.buffer)[0];
}
