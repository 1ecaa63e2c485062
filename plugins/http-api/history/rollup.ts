// Bucketing a range of a history series, with per-segment rollups cached: a closed segment is
// folded once into cells of 60 s (or 30/20/15/12/10 s, the largest dividing the step), and later
// answers merge those cells instead of parsing its rows again (the first answer still reads them all).
import type { HistoryRecord, HistoryStore } from '../../../core/history/types.ts';
import { Bucketer } from './buckets.ts';

const ROLLUP_SECONDS = [60, 30, 20, 15, 12, 10];

/** The cell width for a step: the largest of ROLLUP_SECONDS dividing it, or null (no rollup). */
export function rollupMs(stepMs: number): number | null {
  for (const s of ROLLUP_SECONDS) if (stepMs % (s * 1000) === 0) return s * 1000;
  return null;
}

/** Least recently used rollups go once the cells (buckets x keys) held pass `maxCells`. */
export class RollupCache {
  readonly #entries = new Map<string, Bucketer>();
  #cells = 0;

  constructor(readonly maxCells: number) {}

  get(key: string): Bucketer | undefined {
    const v = this.#entries.get(key);
    if (v) {
      this.#entries.delete(key);
      this.#entries.set(key, v);
    }
    return v;
  }

  set(key: string, value: Bucketer): void {
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
  if (cellMs === null || cache.maxCells <= 0) {
    await fold(out, req.from, req.to);
    return out;
  }
  const tag = `${cellMs}\u0000${req.keys.join(',')}\u0000${JSON.stringify(req.where ?? null)}`;
  for (const seg of await history.segments(series, { from: req.from, to: req.to })) {
    const whole = seg.start >= req.from && seg.end - 1 <= req.to;
    if (!whole || seg.version === null) {
      await fold(out, Math.max(req.from, seg.start), Math.min(req.to, seg.end - 1));
      continue;
    }
    const key = `${series}\u0000${seg.start}\u0000${seg.version}\u0000${tag}`;
    let rollup = cache.get(key);
    if (!rollup) {
      rollup = new Bucketer(req.keys, cellMs);
      await fold(rollup, seg.start, seg.end - 1);
      // Cache only if no late row reached the segment while it was read.
      const now = await history.segments(series, { from: seg.start, to: seg.start });
      if (now[0]?.version === seg.version) cache.set(key, rollup);
    }
    out.merge(rollup);
  }
  return out;
}
