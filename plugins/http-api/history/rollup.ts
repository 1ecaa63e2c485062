// Bucketing a range of a history series, with per-segment rollups cached: a closed segment is
// folded once into 1-minute cells, and later answers whose step is a whole number of minutes merge
// those cells instead of parsing its rows again (the first answer over a month still reads them all).
import type { HistoryRecord, HistoryStore } from '../../../core/history/types.ts';
import { Bucketer } from './buckets.ts';

export const ROLLUP_MS = 60_000;

/** Least recently used rollups beyond `maxEntries` are dropped; one entry is one segment x key set. */
export class RollupCache {
  readonly #entries = new Map<string, Bucketer>();

  constructor(readonly maxEntries: number) {}

  get(key: string): Bucketer | undefined {
    const v = this.#entries.get(key);
    if (v) {
      this.#entries.delete(key);
      this.#entries.set(key, v);
    }
    return v;
  }

  set(key: string, value: Bucketer): void {
    if (this.maxEntries <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.maxEntries) break;
      this.#entries.delete(oldest);
    }
  }

  get size(): number {
    return this.#entries.size;
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
    for await (const r of history.scan(series, { from, to })) if (matchesWhere(r, req.where)) target.add(r);
  };
  if (req.stepMs % ROLLUP_MS !== 0) {
    await fold(out, req.from, req.to);
    return out;
  }
  const tag = `${req.keys.join(',')}\u0000${JSON.stringify(req.where ?? null)}`;
  for (const seg of await history.segments(series, { from: req.from, to: req.to })) {
    const whole = seg.start >= req.from && seg.end - 1 <= req.to;
    if (!whole || seg.version === null) {
      await fold(out, Math.max(req.from, seg.start), Math.min(req.to, seg.end - 1));
      continue;
    }
    const key = `${series}\u0000${seg.start}\u0000${seg.version}\u0000${tag}`;
    let rollup = cache.get(key);
    if (!rollup) {
      rollup = new Bucketer(req.keys, ROLLUP_MS);
      await fold(rollup, seg.start, seg.end - 1);
      // Cache only if no late row reached the segment while it was read.
      const now = await history.segments(series, { from: seg.start, to: seg.start });
      if (now[0]?.version === seg.version) cache.set(key, rollup);
    }
    out.merge(rollup);
  }
  return out;
}
