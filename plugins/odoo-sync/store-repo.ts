// The mo_batch queue in the embedded store (sql.js, journaled): the seed's columns, one table owned
// by the odoo-sync migrations; a multi-row upsert is one `runMany` mutation, so all or nothing.
import type { SqlParams, SqlStatement, StateStore } from '../../core/store/types.ts';
import type { Clock } from '../../core/clock.ts';
import { SILO_LETTERS, type MoBatchRow, type MoBatchStore, type NewMoBatch, type OrphanBatch, type SiloLetter, type UpsertResult } from './batch-repo.ts';
import { type BatchHistoryRow, type BatchResult, historyRow, orphanRow, type WriteBackPatch } from './history.ts';

export const MIGRATION_OWNER = 'odoo-sync';
const LIQUIDS = ['lq114', 'lq115'] as const;

const siloColumns = SILO_LETTERS.map((l, i) => [
  `silo_${l} INTEGER NOT NULL DEFAULT ${101 + i}`,
  `component_silo_${l}_name TEXT`,
  `consumption_silo_${l} REAL NOT NULL DEFAULT 0 CHECK (consumption_silo_${l} >= 0)`,
].join(',\n  ')).join(',\n  ');

const liquidColumns = LIQUIDS.map((t) => `component_${t}_name TEXT,\n  consumption_${t} REAL NOT NULL DEFAULT 0 CHECK (consumption_${t} >= 0)`).join(',\n  ');

export const MO_BATCH_MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS mo_batch(
  batch_no INTEGER PRIMARY KEY CHECK (batch_no >= 1),
  mo_id TEXT NOT NULL UNIQUE CHECK (mo_id <> ''),
  consumption REAL NOT NULL CHECK (consumption >= 0),
  equipment_id_batch TEXT,
  finished_goods TEXT,
  bom_code TEXT,
  ${siloColumns},
  ${liquidColumns},
  status_manufacturing INTEGER NOT NULL DEFAULT 0,
  status_operation INTEGER NOT NULL DEFAULT 0,
  actual_weight_quantity_finished_goods REAL,
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL
)`,
  // The outbox of the Odoo write-back and the batch history (history.ts): fixed facts in `data`,
  // what changes in columns; status_operation / actual weight under the seed's names for SQL readers.
  `CREATE TABLE IF NOT EXISTS mo_histories(
  key TEXT PRIMARY KEY,
  mo_id TEXT NOT NULL,
  batch_no INTEGER NOT NULL,
  finished_at REAL NOT NULL,
  status_manufacturing INTEGER NOT NULL DEFAULT 1,
  status_operation INTEGER NOT NULL,
  actual_weight_quantity_finished_goods REAL,
  data TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  next_attempt_at REAL,
  baseline REAL,
  confirmed_at REAL,
  resolution TEXT,
  resolved_at REAL
)`,
  'CREATE INDEX IF NOT EXISTS mo_histories_finished ON mo_histories(finished_at)',
  'CREATE INDEX IF NOT EXISTS mo_histories_mo ON mo_histories(mo_id)',
];

const HISTORY_MUTABLE = ['state', 'attempts', 'last_error', 'next_attempt_at', 'baseline', 'confirmed_at', 'resolution', 'resolved_at'] as const;

function historyFromDb(r: Record<string, unknown>): BatchHistoryRow {
  const data = JSON.parse(r.data as string) as BatchHistoryRow;
  return { ...data, ...Object.fromEntries(HISTORY_MUTABLE.map((c) => [c, r[c] ?? null])), attempts: Number(r.attempts) } as BatchHistoryRow;
}

function historyInsert(h: BatchHistoryRow): SqlStatement {
  return {
    sql: `INSERT OR IGNORE INTO mo_histories(key, mo_id, batch_no, finished_at, status_operation, actual_weight_quantity_finished_goods, data, state, attempts, next_attempt_at, last_error)
          VALUES (:key, :mo_id, :batch_no, :finished_at, :failed, :w, :data, :state, 0, :next, :err)`,
    params: {
      ':key': h.key, ':mo_id': h.mo_id, ':batch_no': h.batch_no, ':finished_at': h.finished_at, ':failed': h.status_operation ? 1 : 0,
      ':w': h.actual_weight_quantity_finished_goods, ':data': JSON.stringify(h), ':state': h.state, ':next': h.next_attempt_at, ':err': h.last_error,
    },
  };
}

/** The columns a NewMoBatch sets (everything but position, status and timestamps). */
const DATA_COLUMNS = [
  'consumption', 'equipment_id_batch', 'finished_goods', 'bom_code',
  ...SILO_LETTERS.flatMap((l) => [`silo_${l}`, `component_silo_${l}_name`, `consumption_silo_${l}`]),
  ...LIQUIDS.flatMap((t) => [`component_${t}_name`, `consumption_${t}`]),
];

function dataParams(row: NewMoBatch): SqlParams {
  const p: SqlParams = {
    ':mo_id': row.mo_id,
    ':consumption': row.consumption,
    ':equipment_id_batch': row.equipment_id_batch,
    ':finished_goods': row.finished_goods,
    ':bom_code': row.bom_code,
  };
  for (const [i, l] of SILO_LETTERS.entries()) {
    p[`:silo_${l}`] = row.silos?.[l] ?? 101 + i;
    p[`:component_silo_${l}_name`] = row.component_names[l] ?? null;
    p[`:consumption_silo_${l}`] = row.consumptions[l] ?? 0;
  }
  for (const t of LIQUIDS) {
    p[`:component_${t}_name`] = row.liquids?.[t]?.name ?? null;
    p[`:consumption_${t}`] = row.liquids?.[t]?.consumption ?? 0;
  }
  return p;
}

function fromDb(r: Record<string, unknown>): MoBatchRow {
  const silos = {} as Record<SiloLetter, number>;
  const component_names: MoBatchRow['component_names'] = {};
  const consumptions: MoBatchRow['consumptions'] = {};
  for (const l of SILO_LETTERS) {
    silos[l] = r[`silo_${l}`] as number;
    const name = r[`component_silo_${l}_name`] as string | null;
    if (name !== null) component_names[l] = name;
    const c = r[`consumption_silo_${l}`] as number;
    if (name !== null || c !== 0) consumptions[l] = c;
  }
  const liquids: NonNullable<MoBatchRow['liquids']> = {};
  for (const t of LIQUIDS) {
    const name = r[`component_${t}_name`] as string | null;
    if (name !== null) liquids[t] = { name, consumption: r[`consumption_${t}`] as number };
  }
  return {
    batch_no: r.batch_no as number,
    mo_id: r.mo_id as string,
    consumption: r.consumption as number,
    equipment_id_batch: r.equipment_id_batch as string | null,
    finished_goods: r.finished_goods as string | null,
    bom_code: r.bom_code as string | null,
    silos,
    component_names,
    consumptions,
    ...(Object.keys(liquids).length ? { liquids } : {}),
    status_manufacturing: r.status_manufacturing === 1,
    status_operation: r.status_operation === 1,
    actual_weight_quantity_finished_goods: r.actual_weight_quantity_finished_goods as number | null,
    created_at: r.created_at as number,
    updated_at: r.updated_at as number,
  };
}

function insertRow(row: NewMoBatch, batchNo: number, now: number): SqlStatement {
  return {
    sql: `INSERT INTO mo_batch(batch_no, mo_id, ${DATA_COLUMNS.join(', ')}, created_at, updated_at) VALUES (:batch_no, :mo_id, ${DATA_COLUMNS.map((c) => `:${c}`).join(', ')}, :now, :now)`,
    params: { ...dataParams(row), ':now': now, ':batch_no': batchNo },
  };
}

export class StoreMoBatchRepository implements MoBatchStore {
  readonly description = 'mo_batch in the embedded store';
  readonly #store: StateStore;
  readonly #clock: Clock;

  constructor(options: { store: StateStore; clock: Clock }) {
    this.#store = options.store;
    this.#clock = options.clock;
  }

  async init(): Promise<void> {
    await this.#store.migrate(MIGRATION_OWNER, MO_BATCH_MIGRATIONS);
  }

  async count(): Promise<number> {
    return this.#store.query<{ n: number }>('SELECT count(*) AS n FROM mo_batch')[0]?.n ?? 0;
  }

  async list(): Promise<MoBatchRow[]> {
    return this.#store.query('SELECT * FROM mo_batch ORDER BY batch_no').map(fromDb);
  }

  async get(batchNo: number): Promise<MoBatchRow | undefined> {
    const r = this.#store.query('SELECT * FROM mo_batch WHERE batch_no = :b', { ':b': batchNo })[0];
    return r ? fromDb(r) : undefined;
  }

  async upsert(rows: NewMoBatch[]): Promise<UpsertResult> {
    if (!rows.length) return { inserted: 0, updated: 0 };
    const now = this.#clock.now() / 1000;
    const existing = new Map(this.#store.query<{ mo_id: string; batch_no: number }>('SELECT mo_id, batch_no FROM mo_batch').map((r) => [r.mo_id, r.batch_no]));
    // Read in the same synchronous section as the write below: a batch finished while the fetch was
    // in flight (its queue row already gone, Odoo still listing it) is never queued again.
    const finished = new Set(this.#store.query<{ mo_id: string }>("SELECT DISTINCT mo_id FROM mo_histories WHERE state <> 'retried'").map((r) => r.mo_id));
    let next = (this.#store.query<{ m: number | null }>('SELECT max(batch_no) AS m FROM mo_batch')[0]?.m ?? 0) + 1;
    const statements: SqlStatement[] = [];
    const queued = new Set<string>();
    const alreadyFinished: string[] = [];
    let inserted = 0;
    let updated = 0;
    for (const row of rows) {
      // batch_no is computed here (not by SQL) so the journal replays the same numbers.
      const params = { ...dataParams(row), ':now': now };
      if (!existing.has(row.mo_id) && finished.has(row.mo_id)) {
        if (!alreadyFinished.includes(row.mo_id)) alreadyFinished.push(row.mo_id);
      } else if (existing.has(row.mo_id) || queued.has(row.mo_id)) {
        statements.push({ sql: `UPDATE mo_batch SET ${DATA_COLUMNS.map((c) => `${c} = :${c}`).join(', ')}, updated_at = :now WHERE mo_id = :mo_id`, params });
        updated++;
      } else {
        statements.push(insertRow(row, next++, now));
        queued.add(row.mo_id);
        inserted++;
      }
    }
    if (statements.length) await this.#store.runMany(statements, { durable: true });
    return { inserted, updated, ...(alreadyFinished.length ? { alreadyFinished } : {}) };
  }

  async markFinished(batchNo: number, result: BatchResult): Promise<void> {
    const row = await this.get(batchNo);
    if (!row || row.status_manufacturing) return;
    const now = this.#clock.now() / 1000;
    // One mutation: the queue row and its outbox row together, or neither.
    await this.#store.runMany([
      {
        sql: 'UPDATE mo_batch SET status_manufacturing = 1, status_operation = :failed, actual_weight_quantity_finished_goods = :w, updated_at = :now WHERE batch_no = :b',
        params: { ':failed': result.failed ? 1 : 0, ':w': result.actualWeight, ':now': now, ':b': batchNo },
      },
      historyInsert(historyRow(row, result, now)),
    ], { durable: true });
  }

  async recordOrphan(batch: OrphanBatch, result: BatchResult): Promise<void> {
    await this.#store.runMany([historyInsert(orphanRow(batch, result, this.#clock.now() / 1000))], { durable: true });
  }

  async history(range: { from?: number; to?: number; limit?: number } = {}): Promise<BatchHistoryRow[]> {
    return this.#store.query('SELECT * FROM mo_histories WHERE finished_at >= :from AND finished_at <= :to ORDER BY finished_at DESC, key LIMIT :limit', {
      ':from': range.from ?? 0, ':to': range.to ?? Number.MAX_SAFE_INTEGER, ':limit': range.limit ?? 1000,
    }).map(historyFromDb);
  }

  async getHistory(key: string): Promise<BatchHistoryRow | undefined> {
    const r = this.#store.query('SELECT * FROM mo_histories WHERE key = :k', { ':k': key })[0];
    return r ? historyFromDb(r) : undefined;
  }

  async due(nowS: number): Promise<BatchHistoryRow[]> {
    return this.#store.query("SELECT * FROM mo_histories WHERE state = 'pending' AND coalesce(next_attempt_at, 0) <= :now ORDER BY finished_at, key", { ':now': nowS }).map(historyFromDb);
  }

  async finishedMoIds(): Promise<Set<string>> {
    return new Set(this.#store.query<{ mo_id: string }>("SELECT DISTINCT mo_id FROM mo_histories WHERE state <> 'retried'").map((r) => r.mo_id));
  }

  async updateWriteBack(key: string, patch: WriteBackPatch): Promise<void> {
    const cols = HISTORY_MUTABLE.filter((c) => c in patch);
    if (!cols.length) return;
    const params: SqlParams = { ':key': key };
    for (const c of cols) params[`:${c}`] = (patch[c] ?? null) as string | number | null;
    await this.#store.run(`UPDATE mo_histories SET ${cols.map((c) => `${c} = :${c}`).join(', ')} WHERE key = :key`, params, { durable: true });
  }

  async requeue(key: string, resolution: { text: string; at: number }): Promise<number> {
    const h = await this.getHistory(key);
    if (!h) throw new Error(`no finished batch "${key}"`);
    const queued = this.#store.query('SELECT batch_no FROM mo_batch WHERE mo_id = :m', { ':m': h.mo_id })[0];
    if (queued) throw new Error(`${h.mo_id} is already queued (batch ${queued.batch_no as number})`);
    const next = (this.#store.query<{ m: number | null }>('SELECT max(batch_no) AS m FROM mo_batch')[0]?.m ?? 0) + 1;
    await this.#store.runMany([
      { sql: "UPDATE mo_histories SET state = 'retried', resolution = :r, resolved_at = :at WHERE key = :key", params: { ':r': resolution.text, ':at': resolution.at, ':key': key } },
      insertRow(h.row, next, this.#clock.now() / 1000),
    ], { durable: true });
    return next;
  }

  async remove(batchNo: number): Promise<void> {
    await this.#store.run('DELETE FROM mo_batch WHERE batch_no = :b', { ':b': batchNo }, { durable: true });
  }

  async clear(): Promise<number> {
    const n = await this.count();
    if (n) await this.#store.run('DELETE FROM mo_batch', undefined, { durable: true });
    return n;
  }

  async close(): Promise<void> {
    // The store belongs to the runtime; nothing to release here.
  }
}
