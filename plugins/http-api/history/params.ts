// Turns the query string of GET /api/history/<series> into a checked request; every refusal names
// the parameter and says how to fix it.

export class HistoryRequestError extends Error {
  constructor(readonly status: 400 | 404, message: string) {
    super(message);
  }
}

export type Agg = 'avg' | 'min' | 'max' | 'last';
export const AGGS: readonly Agg[] = ['avg', 'min', 'max', 'last'];

export interface HistoryQueryString {
  keys?: string;
  from?: string;
  to?: string;
  step?: string;
  agg?: Agg;
  limit?: number;
  after?: string;
  where?: string;
  format?: 'json' | 'csv';
}

/** ms since the epoch of epoch seconds ("1700000000", "1700000000.5") or ISO-8601 text. */
export function parseTime(name: 'from' | 'to', text: string): number {
  const t = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  // Date.parse accepts much more than ISO; require a date that looks like one.
  const ms = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(t) ? Date.parse(t) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new HistoryRequestError(400, `${name}=${JSON.stringify(text)} is not a time: use epoch seconds (1700000000) or ISO-8601 (2026-01-31T12:00:00Z)`);
  }
  return ms;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Bucket width in ms from seconds (`60`, `0.5`) or a duration as Grafana's $__interval writes it (`30s`, `5m`, `1h`). */
export function parseStep(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  const ms = m ? Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']!) : Number.NaN;
  if (!(ms >= 1)) throw new HistoryRequestError(400, `step=${JSON.stringify(text)} is not a bucket width: use seconds (60) or a duration (500ms, 30s, 5m, 1h, 1d), at least 1 ms`);
  return ms;
}

/** `a,b` → ['a','b']; empty entries dropped, duplicates kept once. */
export function parseKeys(text: string | undefined): string[] | null {
  if (text === undefined) return null;
  const keys = [...new Set(text.split(',').map((k) => k.trim()).filter(Boolean))];
  return keys.length ? keys : null;
}

/** `machine:m1,sensor:temp` → exact field matches (numbers and booleans as such). */
export function parseWhere(text: string | undefined): Record<string, string | number | boolean | null> | undefined {
  if (!text) return undefined;
  const out: Record<string, string | number | boolean | null> = {};
  for (const part of text.split(',')) {
    const i = part.indexOf(':');
    if (i <= 0) throw new HistoryRequestError(400, `where=${JSON.stringify(text)}: each condition is field:value (e.g. where=sensor:temp1,machine:m1)`);
    const raw = part.slice(i + 1);
    out[part.slice(0, i).trim()] = raw === 'null' ? null : raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return out;
}

/** Raw paging cursor: the last row's ts and how many rows at exactly that ts were returned. */
export interface Cursor {
  ts: number;
  skip: number;
}

export function encodeCursor(c: Cursor): string {
  return `${c.ts}_${c.skip}`;
}

export function parseCursor(text: string): Cursor {
  const m = /^(-?\d+(?:\.\d+)?)_(\d+)$/.exec(text);
  if (!m) throw new HistoryRequestError(400, `after=${JSON.stringify(text)} is not a cursor: pass the "next" value of the previous page unchanged`);
  return { ts: Number(m[1]), skip: Number(m[2]) };
}

/** Buckets [from, to] holds at `stepMs`, buckets aligned to the epoch (so pages and panels agree). */
export function bucketCount(fromMs: number, toMs: number, stepMs: number): number {
  return Math.floor(toMs / stepMs) - Math.floor(fromMs / stepMs) + 1;
}

/** The 400 for a request that would produce too many buckets, with the smallest step that fits. */
export function checkBuckets(fromMs: number, toMs: number, stepMs: number, max: number): void {
  const n = bucketCount(fromMs, toMs, stepMs);
  if (n <= max) return;
  let fit = Math.ceil((toMs - fromMs) / (max - 1) / 1000);
  while (bucketCount(fromMs, toMs, fit * 1000) > max) fit++;
  throw new HistoryRequestError(
    400,
    `step=${stepMs / 1000} over ${new Date(fromMs).toISOString()}..${new Date(toMs).toISOString()} gives ${n} buckets, more than the maximum of ${max}: use step>=${fit}, or a narrower from/to`,
  );
}
