// The logical mutations the journal records, and how each is applied to the database — the same
// code runs for a live write and for replay at start-up, so both always agree.
import { Buffer } from 'node:buffer';
import type { BindParams, SqlValue } from 'sql.js';
import type { SqlParams } from './types.ts';
import type { StoreSql } from './sqlite.ts';

type EncodedParam = string | number | null | { $b64: string };

export type Mutation =
  | { o: 'set'; k: string; v: unknown; u: number }
  | { o: 'many'; e: Record<string, unknown>; u: number }
  | { o: 'del'; k: string }
  | { o: 'trend'; r: [ts: number, pv: number | null, sp: number | null, mv: number | null] }
  | { o: 'prune'; b: number }
  | { o: 'run'; q: string; p?: Record<string, EncodedParam> }
  | { o: 'runs'; l: Array<{ q: string; p?: Record<string, EncodedParam> }> }
  | { o: 'mig'; w: string; n: number; q: string; u: number };

/** JSON text of a state value; refuses what JSON cannot carry rather than storing a surprise. */
export function valueJson(key: string, value: unknown): string {
  const json = value === undefined ? undefined : JSON.stringify(value);
  if (json === undefined) throw new TypeError(`state "${key}": value ${String(value)} is not JSON; use delete() to remove a key`);
  return json;
}

export function encodeParams(params: SqlParams | undefined): Record<string, EncodedParam> | undefined {
  if (!params) return undefined;
  const out: Record<string, EncodedParam> = {};
  for (const [k, v] of Object.entries(params)) out[k] = v instanceof Uint8Array ? { $b64: Buffer.from(v).toString('base64') } : v;
  return out;
}

export function decodeParams(params: Record<string, EncodedParam> | undefined): BindParams | undefined {
  if (!params) return undefined;
  const out: Record<string, SqlValue> = {};
  for (const [k, v] of Object.entries(params)) {
    out[k] = v !== null && typeof v === 'object' ? new Uint8Array(Buffer.from(v.$b64, 'base64')) : v;
  }
  return out;
}

/**
 * Applies `m` atomically. Throws (leaving the database unchanged) when SQLite refuses it; the
 * store then rejects the write without journaling it. Returns rows changed (for prune/run).
 */
export function applyMutation(sql: StoreSql, m: Mutation): number {
  switch (m.o) {
    case 'set':
      sql.upsert(m.k, valueJson(m.k, m.v), m.u);
      return 1;
    case 'many': {
      const entries = Object.entries(m.e).map(([k, v]) => [k, valueJson(k, v)] as const);
      sql.transaction(() => {
        for (const [k, json] of entries) sql.upsert(k, json, m.u);
      });
      return entries.length;
    }
    case 'del':
      sql.remove(m.k);
      return 1;
    case 'trend':
      sql.insertTrend(...m.r);
      return 1;
    case 'prune':
      return sql.run('DELETE FROM trend WHERE ts < ?', [m.b]);
    case 'run':
      return sql.transaction(() => sql.run(m.q, decodeParams(m.p)));
    case 'runs':
      return sql.transaction(() => m.l.reduce((changed, s) => changed + sql.run(s.q, decodeParams(s.p)), 0));
    case 'mig':
      return sql.transaction(() => {
        sql.run(m.q);
        return sql.run('INSERT INTO fieldgate_migrations(owner, version, applied_at) VALUES (?, ?, ?)', [m.w, m.n, m.u]);
      });
    default:
      throw new Error(`unknown journal operation ${JSON.stringify((m as { o: unknown }).o)}`);
  }
}
