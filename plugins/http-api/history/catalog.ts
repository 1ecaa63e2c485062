// What GET /api/history lists: each series in the history store with its time span, and the fields
// its rows carry, sampled from the newest rows (rows are free-form JSON, so nothing else knows them).
import type { HistoryStore } from '../../../core/history/types.ts';

/** Rows sampled per series for its field list; a field seen only in older rows is not listed. */
export const FIELD_SAMPLE = 200;

export interface FieldInfo {
  name: string;
  /** JSON types seen in the sample: number, string, boolean, object. */
  types: string[];
}

export interface SeriesInfo {
  name: string;
  /** Epoch seconds of the oldest and newest row kept (window bounds for segments not yet read). */
  oldest: number | null;
  newest: number | null;
  segments: number;
  fields: FieldInfo[];
}

export async function seriesFields(history: HistoryStore, series: string): Promise<FieldInfo[]> {
  const types = new Map<string, Set<string>>();
  for (const r of await history.query(series, { newestFirst: true, limit: FIELD_SAMPLE })) {
    for (const [k, v] of Object.entries(r.data)) {
      if (v === null || v === undefined) continue;
      let set = types.get(k);
      if (!set) types.set(k, (set = new Set()));
      set.add(Array.isArray(v) ? 'object' : typeof v);
    }
  }
  return [...types].sort(([a], [b]) => a.localeCompare(b)).map(([name, set]) => ({ name, types: [...set].sort() }));
}

export async function listSeries(history: HistoryStore): Promise<SeriesInfo[]> {
  const status = history.status().series;
  const out: SeriesInfo[] = [];
  for (const name of history.listSeries()) {
    const s = status[name];
    out.push({
      name,
      oldest: s?.oldestTs == null ? null : s.oldestTs / 1000,
      newest: s?.newestTs == null ? null : s.newestTs / 1000,
      segments: s?.segments ?? 0,
      fields: await seriesFields(history, name),
    });
  }
  return out;
}
