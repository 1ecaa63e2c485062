// Keeps the audit table of the in-memory store bounded by age and by count: rows past either limit
// move to the history store's segment files (series `http_api_audit`), then leave the store.
import type { HistoryStore } from '../../core/history/types.ts';
import type { StateStore } from '../../core/store/types.ts';
import { AUDIT_TABLE, parseAuditValue } from './audit.ts';
import type { HttpApiConfig } from './config.ts';

export const AUDIT_SERIES = 'http_api_audit';
/** Rows moved per history append, so a first prune of a large table does not build one huge batch. */
const BATCH = 1000;
const DAY_MS = 86_400_000;

export interface AuditPruneResult {
  /** Rows deleted from the store. */
  pruned: number;
  /** Of those, rows appended to the history series first. */
  archived: number;
  /** History segments of the series deleted for being older than archiveDays. */
  archiveSegmentsDropped: number;
}

export interface AuditRetentionDeps {
  store: StateStore;
  /** Null: pruned rows are dropped. */
  history: HistoryStore | null;
  policy: HttpApiConfig['audit'];
}

/**
 * Prunes rows older than `maxAgeDays` or beyond the newest `keepRows`, oldest first. With a
 * history store each batch is appended there (durably) before it is deleted, so a failing
 * archive leaves the rows in the store and the error to the caller: nothing is lost.
 */
export async function pruneAudit(deps: AuditRetentionDeps, nowMs: number): Promise<AuditPruneResult> {
  const { store, history, policy } = deps;
  const cutoff = (nowMs - policy.maxAgeDays * DAY_MS) / 1000;
  const boundary = store.query<{ id: number }>(`SELECT id FROM ${AUDIT_TABLE} ORDER BY id DESC LIMIT 1 OFFSET :keep`, { ':keep': policy.keepRows })[0];
  // Rows with id <= countCut are beyond keepRows; -1 matches none.
  const countCut = boundary ? Number(boundary.id) : -1;
  const cond = '(ts < :cutoff OR id <= :countCut)';
  const result: AuditPruneResult = { pruned: 0, archived: 0, archiveSegmentsDropped: 0 };
  for (;;) {
    const rows = store.query<Record<string, string | number | null>>(
      `SELECT id, ts, client, key_id, route, key, old_value, new_value FROM ${AUDIT_TABLE} WHERE ${cond} ORDER BY id LIMIT :batch`,
      { ':cutoff': cutoff, ':countCut': countCut, ':batch': BATCH },
    );
    if (rows.length === 0) break;
    const lastId = Number(rows[rows.length - 1]!.id);
    if (history && policy.archive) {
      await history.append(AUDIT_SERIES, rows.map((r) => ({
        ts: Math.round(Number(r.ts) * 1000),
        data: {
          id: Number(r.id), client: r.client, keyId: r.key_id, route: r.route, key: r.key,
          old: parseAuditValue(r.old_value), new: parseAuditValue(r.new_value),
        },
      })), { durable: true });
      result.archived += rows.length;
    }
    await store.run(`DELETE FROM ${AUDIT_TABLE} WHERE id <= :last AND ${cond}`, { ':last': lastId, ':cutoff': cutoff, ':countCut': countCut }, { durable: false });
    result.pruned += rows.length;
    if (rows.length < BATCH) break;
  }
  if (history && policy.archive) {
    result.archiveSegmentsDropped = await history.prune(AUDIT_SERIES, nowMs - policy.archiveDays * DAY_MS);
  }
  return result;
}
