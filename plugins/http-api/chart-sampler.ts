// Samples the state keys named in `dashboard.chart.keys` into the history series "dashboard", so every
// system has a history chart (GET /api/history/dashboard) even where no plugin writes a series of its own.
import type { HistoryStore } from '../../core/history/types.ts';
import type { StateStore } from '../../core/store/types.ts';

export const CHART_SERIES = 'dashboard';

/** One row of the current numeric (booleans as 0/1) values of `keys`; null when none has a value yet. */
export function chartRow(store: StateStore, keys: readonly string[], nowMs: number): { ts: number; data: Record<string, number> } | null {
  const data: Record<string, number> = {};
  for (const key of keys) {
    const v = store.get(key);
    if (typeof v === 'number' && Number.isFinite(v)) data[key] = v;
    else if (typeof v === 'boolean') data[key] = v ? 1 : 0;
  }
  return Object.keys(data).length ? { ts: nowMs, data } : null;
}

/** Appends one row (not durable: a lost sample on power failure is acceptable, SD-card writes are not). */
export async function sampleChart(deps: { store: StateStore; history: HistoryStore; keys: readonly string[]; nowMs: number }): Promise<boolean> {
  const row = chartRow(deps.store, deps.keys, deps.nowMs);
  if (!row) return false;
  await deps.history.append(CHART_SERIES, [row], { durable: false });
  return true;
}
