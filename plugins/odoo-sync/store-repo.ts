// The mo_batch queue in the embedded store (sql.js, journaled): the seed's columns, one table owned
// by the odoo-sync migrations; a multi-row upsert is one `runMany` mutation, so all or nothing.
import type { SqlParams, SqlStatement, StateStore } from '../../core/store/types.ts';
import type { Clock } from '../../core/clock.ts';
import { SILO_LETTERS, type MoBatchRepository, type MoBatchRow, type NewMoBatch, type SiloLetter } from './batch-repo.ts';

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
];

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

export class StoreMoBatchRepository implements MoBatchRepository {
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

  async upsert(rows: NewMoBatch[]): Promise<{ inserted: number; updated: number }> {
    if (!rows.length) return { inserted: 0, updated: 0 };
    const now = this.#clock.now() / 1000;
    const existing = new Map(this.#store.query<{ mo_id: string; batch_no: number }>('SELECT mo_id, batch_no FROM mo_batch').map((r) => [r.mo_id, r.batch_no]));
    let next = (this.#store.query<{ m: number | null }>('SELECT max(batch_no) AS m FROM mo_batch')[0]?.m ?? 0) + 1;
    const statements: SqlStatement[] = [];
    const queued = new Set<string>();
    let inserted = 0;
    let updated = 0;
    for (const row of rows) {
      // batch_no is computed here (not by SQL) so the journal replays the same numbers.
      const params = { ...dataParams(row), ':now': now };
      if (existing.has(row.mo_id) || queued.has(row.mo_id)) {
        statements.push({ sql: `UPDATE mo_batch SET ${DATA_COLUMNS.map((c) => `${c} = :${c}`).join(', ')}, updated_at = :now WHERE mo_id = :mo_id`, params });
        updated++;
      } else {
        statements.push({
          sql: `INSERT INTO mo_batch(batch_no, mo_id, ${DATA_COLUMNS.join(', ')}, created_at, updated_at) VALUES (:batch_no, :mo_id, ${DATA_COLUMNS.map((c) => `:${c}`).join(', ')}, :now, :now)`,
          params: { ...params, ':batch_no': next++ },
        });
        queued.add(row.mo_id);
        inserted++;
      }
    }
    await this.#store.runMany(statements, { durable: true });
    return { inserted, updated };
  }

  async markFinished(batchNo: number, result: { failed: boolean; actualWeight: number | null }): Promise<void> {
    await this.#store.run(
      'UPDATE mo_batch SET status_manufacturing = 1, status_operation = :failed, actual_weight_quantity_finished_goods = :w, updated_at = :now WHERE batch_no = :b',
      { ':failed': result.failed ? 1 : 0, ':w': result.actualWeight, ':now': this.#clock.now() / 1000, ':b': batchNo },
      { durable: true },
    );
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
