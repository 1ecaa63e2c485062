// The mo_batch queue in PostgreSQL, as the seed deployment keeps it so other systems can read it:
// the seed's columns (silo_a..m, component_silo_x_name, consumption_silo_x), one multi-row upsert per
// sync in one transaction (all or nothing). `pg` is imported only when a manifest selects a database.
import type { Pool, PoolClient } from 'pg';
import { guardedClient, type PgGuardOptions } from '../../adapters/postgres/guard.ts';
import type { PgByteLimits } from '../../adapters/postgres/message-scanner.ts';
import type { Clock } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import { type MoBatchRow, type MoBatchStore, type NewMoBatch, type OrphanBatch, SILO_LETTERS, type SiloLetter, type UpsertResult } from './batch-repo.ts';
import { type BatchHistoryRow, type BatchResult, historyRow, orphanRow, type WriteBackPatch } from './history.ts';

const HISTORY_MUTABLE = ['state', 'attempts', 'last_error', 'next_attempt_at', 'baseline', 'confirmed_at', 'resolution', 'resolved_at'] as const;
const EPOCH_COLUMNS = new Set(['next_attempt_at', 'confirmed_at', 'resolved_at']);

/** The outbox / history table (history.ts) beside the queue, with the seed's result columns. */
function historySql(table: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (
  key varchar(160) PRIMARY KEY,
  mo_id varchar(64) NOT NULL,
  batch_no integer NOT NULL,
  finished_goods varchar(128),
  status_manufacturing boolean NOT NULL DEFAULT true,
  status_operation boolean NOT NULL,
  actual_weight_quantity_finished_goods numeric(18,3),
  actual_consumption jsonb NOT NULL,
  data jsonb NOT NULL,
  finished_at timestamptz NOT NULL,
  state varchar(16) NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  next_attempt_at timestamptz,
  baseline double precision,
  confirmed_at timestamptz,
  resolution text,
  resolved_at timestamptz
)`,
    `CREATE INDEX IF NOT EXISTS ${table}_finished ON ${table} (finished_at)`,
    `CREATE INDEX IF NOT EXISTS ${table}_mo ON ${table} (mo_id)`,
  ];
}

function historyFromPg(r: Record<string, unknown>): BatchHistoryRow {
  const data = r.data as BatchHistoryRow;
  const out = { ...data } as unknown as Record<string, unknown>;
  for (const c of HISTORY_MUTABLE) {
    const v = c === 'state' || c === 'last_error' || c === 'resolution' ? r[c] : EPOCH_COLUMNS.has(c) ? r[`${c}_s`] : r[c];
    out[c] = v === null || v === undefined ? null : c === 'state' || c === 'last_error' || c === 'resolution' ? v : num(v);
  }
  return out as unknown as BatchHistoryRow;
}

const LIQUIDS = ['lq114', 'lq115'] as const;

/** The seed's table (app/models/tablesmo_batch.py) plus what the contract adds (bom_code, tanks, timestamps). */
function createSql(table: string): string[] {
  const silos = SILO_LETTERS.map((l, i) =>
    `silo_${l} integer NOT NULL DEFAULT ${101 + i}, component_silo_${l}_name varchar(64), consumption_silo_${l} double precision NOT NULL DEFAULT 0`
  ).join(',\n  ');
  const added = [
    'bom_code varchar(64)',
    ...LIQUIDS.flatMap((t) => [`component_${t}_name varchar(64)`, `consumption_${t} double precision NOT NULL DEFAULT 0`]),
    'created_at timestamptz NOT NULL DEFAULT now()',
    'updated_at timestamptz NOT NULL DEFAULT now()',
  ];
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (
  batch_no integer NOT NULL CHECK (batch_no >= 1),
  mo_id varchar(64) NOT NULL CHECK (mo_id <> ''),
  consumption numeric(18,3) NOT NULL CHECK (consumption >= 0),
  equipment_id_batch varchar(64),
  finished_goods varchar(128),
  ${silos},
  status_manufacturing boolean NOT NULL DEFAULT false,
  status_operation boolean NOT NULL DEFAULT false,
  actual_weight_quantity_finished_goods numeric(18,3)
)`,
    // A table the seed's own migrations created lacks these; adding them lets both share it.
    ...added.map((c) => `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${c}`),
    `ALTER TABLE ${table} ALTER COLUMN equipment_id_batch DROP NOT NULL`,
    `CREATE UNIQUE INDEX IF NOT EXISTS ${table}_batch_no_key ON ${table} (batch_no)`,
    `CREATE UNIQUE INDEX IF NOT EXISTS ${table}_mo_id_key ON ${table} (mo_id)`,
  ];
}

const DATA_COLUMNS = [
  'consumption', 'equipment_id_batch', 'finished_goods', 'bom_code',
  ...SILO_LETTERS.flatMap((l) => [`silo_${l}`, `component_silo_${l}_name`, `consumption_silo_${l}`]),
  ...LIQUIDS.flatMap((t) => [`component_${t}_name`, `consumption_${t}`]),
];

function dataValues(row: NewMoBatch): unknown[] {
  const v: unknown[] = [row.consumption, row.equipment_id_batch, row.finished_goods, row.bom_code];
  SILO_LETTERS.forEach((l, i) => v.push(row.silos?.[l] ?? 101 + i, row.component_names[l] ?? null, row.consumptions[l] ?? 0));
  for (const t of LIQUIDS) v.push(row.liquids?.[t]?.name ?? null, row.liquids?.[t]?.consumption ?? 0);
  return v;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

function fromDb(r: Record<string, unknown>): MoBatchRow {
  const silos = {} as Record<SiloLetter, number>;
  const component_names: MoBatchRow['component_names'] = {};
  const consumptions: MoBatchRow['consumptions'] = {};
  for (const l of SILO_LETTERS) {
    silos[l] = r[`silo_${l}`] as number;
    const name = r[`component_silo_${l}_name`] as string | null;
    if (name !== null) component_names[l] = name;
    const c = num(r[`consumption_silo_${l}`] ?? 0);
    if (name !== null || c !== 0) consumptions[l] = c;
  }
  const liquids: NonNullable<MoBatchRow['liquids']> = {};
  for (const t of LIQUIDS) {
    const name = r[`component_${t}_name`] as string | null;
    if (name !== null) liquids[t] = { name, consumption: num(r[`consumption_${t}`]) };
  }
  const weight = r.actual_weight_quantity_finished_goods;
  return {
    batch_no: r.batch_no as number,
    mo_id: r.mo_id as string,
    consumption: num(r.consumption),
    equipment_id_batch: r.equipment_id_batch as string | null,
    finished_goods: r.finished_goods as string | null,
    bom_code: r.bom_code as string | null,
    silos,
    component_names,
    consumptions,
    ...(Object.keys(liquids).length ? { liquids } : {}),
    status_manufacturing: r.status_manufacturing === true,
    status_operation: r.status_operation === true,
    actual_weight_quantity_finished_goods: weight === null || weight === undefined ? null : num(weight),
    created_at: num(r.created_at_s),
    updated_at: num(r.updated_at_s),
  };
}

export interface PgMoBatchOptions {
  /** `postgres://user:password@host:5432/db` (the seed's DATABASE_URL). */
  connectionString: string;
  clock: Clock;
  /** Table name; default `mo_batch`. */
  table?: string;
  /** Idle-connection errors (the server restarting): reported, never thrown. */
  onError?: (message: string) => void;
  /** Pool size; default 4. */
  max?: number;
  connectTimeoutMs?: number;
  /** Byte limits on what the server sends (adapters/postgres/guard.ts); defaults 1 MiB a message, 64 MiB a result. */
  limits?: Partial<PgByteLimits>;
  /** A limit was passed: the connection was closed and the query failed with `err`. */
  onLimit?: PgGuardOptions['onLimit'];
}

/** Where a connection string points, without its password. */
export function describeDatabase(connectionString: string): string {
  try {
    const u = new URL(connectionString);
    return `postgresql ${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'postgresql (unparsable connection string)';
  }
}

export class PgMoBatchRepository implements MoBatchStore {
  readonly description: string;
  readonly #o: PgMoBatchOptions;
  readonly #table: string;
  /** The seed's `mo_histories` beside `mo_batch`; `<table>_histories` beside another table name. */
  readonly #history: string;
  #pool: Pool | null = null;

  constructor(options: PgMoBatchOptions) {
    this.#o = options;
    this.#table = options.table ?? 'mo_batch';
    this.#history = this.#table === 'mo_batch' ? 'mo_histories' : `${this.#table}_histories`;
    if (!/^[a-z_][a-z0-9_]*$/.test(this.#table)) throw new RangeError(`mo_batch table name "${this.#table}" must be a plain lower-case SQL identifier`);
    this.description = `mo_batch in ${describeDatabase(options.connectionString)}`;
  }

  async #getPool(): Promise<Pool> {
    if (this.#pool) return this.#pool;
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({
      // Byte limits on every reply, from each connection's first byte (adapters/postgres/guard.ts).
      Client: guardedClient(pg.Client, { peer: describeDatabase(this.#o.connectionString), limits: this.#o.limits, onLimit: this.#o.onLimit }),
      connectionString: this.#o.connectionString,
      max: this.#o.max ?? 4,
      connectionTimeoutMillis: this.#o.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
    });
    // Without a listener an idle client's error (server restart) would crash the process.
    pool.on('error', (err) => this.#o.onError?.(`${this.description}: idle connection failed: ${errorMessage(err)}`));
    this.#pool = pool;
    return pool;
  }

  async #query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const pool = await this.#getPool();
    try {
      return (await pool.query(sql, params)).rows as T[];
    } catch (err) {
      throw new Error(`${this.description}: ${errorMessage(err)}`, { cause: err });
    }
  }

  async #transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const pool = await this.#getPool();
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw new Error(`${this.description}: ${errorMessage(err)}`, { cause: err });
    }
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw new Error(`${this.description}: ${errorMessage(err)} (rolled back, the queue is unchanged)`, { cause: err });
    } finally {
      client.release();
    }
  }

  get #select(): string {
    return `SELECT *, extract(epoch FROM created_at)::float8 AS created_at_s, extract(epoch FROM updated_at)::float8 AS updated_at_s FROM ${this.#table}`;
  }

  async init(): Promise<void> {
    await this.#transaction(async (c) => {
      // Two gateways starting against one database must not race on CREATE TABLE.
      await c.query(`SELECT pg_advisory_xact_lock(hashtext('fieldgate:${this.#table}'))`);
      for (const sql of [...createSql(this.#table), ...historySql(this.#history)]) await c.query(sql);
    });
  }

  async count(): Promise<number> {
    return num((await this.#query<{ n: string }>(`SELECT count(*) AS n FROM ${this.#table}`))[0].n);
  }

  async list(): Promise<MoBatchRow[]> {
    return (await this.#query(`${this.#select} ORDER BY batch_no`)).map(fromDb);
  }

  async get(batchNo: number): Promise<MoBatchRow | undefined> {
    const r = (await this.#query(`${this.#select} WHERE batch_no = $1`, [batchNo]))[0];
    return r ? fromDb(r) : undefined;
  }

  async upsert(rows: NewMoBatch[]): Promise<UpsertResult> {
    if (!rows.length) return { inserted: 0, updated: 0 };
    // Same outcome as applying the rows one after another: a repeated mo_id updates its first row.
    const last = new Map<string, NewMoBatch>();
    for (const row of rows) last.set(row.mo_id, row);
    const now = this.#o.clock.now() / 1000;
    return await this.#transaction(async (c) => {
      // batch_no is max + 1 onwards: one writer at a time per table.
      await c.query(`LOCK TABLE ${this.#table} IN SHARE ROW EXCLUSIVE MODE`);
      const existing = new Map(
        (await c.query<{ mo_id: string; batch_no: number }>(`SELECT mo_id, batch_no FROM ${this.#table} WHERE mo_id = ANY($1)`, [[...last.keys()]])).rows
          .map((r) => [r.mo_id, r.batch_no]),
      );
      // Under the lock (markFinished's UPDATE waits for it, or committed its history row before): a
      // batch finished while the fetch was in flight is never queued again.
      const finished = new Set(
        (await c.query<{ mo_id: string }>(`SELECT DISTINCT mo_id FROM ${this.#history} WHERE mo_id = ANY($1) AND state <> 'retried'`, [[...last.keys()]])).rows
          .map((r) => r.mo_id),
      );
      const alreadyFinished = [...last.keys()].filter((m) => !existing.has(m) && finished.has(m));
      for (const m of alreadyFinished) last.delete(m);
      if (!last.size) return { inserted: 0, updated: 0, alreadyFinished };
      let next = num((await c.query<{ m: number | null }>(`SELECT coalesce(max(batch_no), 0) AS m FROM ${this.#table}`)).rows[0].m) + 1;
      const params: unknown[] = [now];
      const tuples: string[] = [];
      const columns = ['batch_no', 'mo_id', ...DATA_COLUMNS];
      for (const row of last.values()) {
        const values = [existing.get(row.mo_id) ?? next++, row.mo_id, ...dataValues(row)];
        tuples.push(`(${values.map((v) => (params.push(v), `$${params.length}`)).join(', ')}, to_timestamp($1), to_timestamp($1))`);
      }
      await c.query(
        `INSERT INTO ${this.#table} (${columns.join(', ')}, created_at, updated_at) VALUES ${tuples.join(', ')}
         ON CONFLICT (mo_id) DO UPDATE SET ${DATA_COLUMNS.map((col) => `${col} = EXCLUDED.${col}`).join(', ')}, updated_at = EXCLUDED.updated_at`,
        params,
      );
      const insertedMos = [...last.keys()].filter((m) => !existing.has(m)).length;
      const skipped = new Set(alreadyFinished);
      return { inserted: insertedMos, updated: rows.filter((r) => !skipped.has(r.mo_id)).length - insertedMos, ...(alreadyFinished.length ? { alreadyFinished } : {}) };
    });
  }

  async markFinished(batchNo: number, result: BatchResult): Promise<void> {
    const now = this.#o.clock.now() / 1000;
    await this.#transaction(async (c) => {
      const r = (await c.query(`${this.#select} WHERE batch_no = $1 FOR UPDATE`, [batchNo])).rows[0] as Record<string, unknown> | undefined;
      if (!r || r.status_manufacturing === true) return;
      const h = historyRow(fromDb(r), result, now);
      // The queue row and its outbox row commit together, or neither.
      await c.query(
        `UPDATE ${this.#table} SET status_manufacturing = true, status_operation = $2, actual_weight_quantity_finished_goods = $3, updated_at = to_timestamp($4) WHERE batch_no = $1`,
        [batchNo, result.failed, result.actualWeight, now],
      );
      await this.#insertHistory((sql, params) => c.query(sql, params), h, now);
    });
  }

  async #insertHistory(run: (sql: string, params: unknown[]) => Promise<unknown>, h: BatchHistoryRow, now: number): Promise<void> {
    await run(
      `INSERT INTO ${this.#history} (key, mo_id, batch_no, finished_goods, status_operation, actual_weight_quantity_finished_goods, actual_consumption, data, finished_at, state, next_attempt_at, last_error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, to_timestamp($9), $10, to_timestamp($11), $12) ON CONFLICT (key) DO NOTHING`,
      [h.key, h.mo_id, h.batch_no, h.finished_goods, h.status_operation, h.actual_weight_quantity_finished_goods, JSON.stringify(h.consumption), JSON.stringify(h), now, h.state, h.next_attempt_at, h.last_error],
    );
  }

  async recordOrphan(batch: OrphanBatch, result: BatchResult): Promise<void> {
    const now = this.#o.clock.now() / 1000;
    await this.#insertHistory((sql, params) => this.#query(sql, params), orphanRow(batch, result, now), now);
  }

  get #historySelect(): string {
    return `SELECT *, extract(epoch FROM next_attempt_at)::float8 AS next_attempt_at_s, extract(epoch FROM confirmed_at)::float8 AS confirmed_at_s,
      extract(epoch FROM resolved_at)::float8 AS resolved_at_s FROM ${this.#history}`;
  }

  async history(range: { from?: number; to?: number; limit?: number } = {}): Promise<BatchHistoryRow[]> {
    const rows = await this.#query(`${this.#historySelect} WHERE finished_at >= to_timestamp($1) AND finished_at <= to_timestamp($2) ORDER BY finished_at DESC, key LIMIT $3`, [
      range.from ?? 0, range.to ?? 32503680000, range.limit ?? 1000,
    ]);
    return rows.map(historyFromPg);
  }

  async getHistory(key: string): Promise<BatchHistoryRow | undefined> {
    const r = (await this.#query(`${this.#historySelect} WHERE key = $1`, [key]))[0];
    return r ? historyFromPg(r) : undefined;
  }

  async due(nowS: number): Promise<BatchHistoryRow[]> {
    return (await this.#query(`${this.#historySelect} WHERE state = 'pending' AND coalesce(next_attempt_at, to_timestamp(0)) <= to_timestamp($1) ORDER BY finished_at, key`, [nowS])).map(historyFromPg);
  }

  async finishedMoIds(): Promise<Set<string>> {
    return new Set((await this.#query<{ mo_id: string }>(`SELECT DISTINCT mo_id FROM ${this.#history} WHERE state <> 'retried'`)).map((r) => r.mo_id));
  }

  async updateWriteBack(key: string, patch: WriteBackPatch): Promise<void> {
    const cols = HISTORY_MUTABLE.filter((c) => c in patch);
    if (!cols.length) return;
    const params: unknown[] = [key];
    const sets = cols.map((c) => {
      params.push(patch[c] ?? null);
      return EPOCH_COLUMNS.has(c) ? `${c} = to_timestamp($${params.length})` : `${c} = $${params.length}`;
    });
    await this.#query(`UPDATE ${this.#history} SET ${sets.join(', ')} WHERE key = $1`, params);
  }

  async requeue(key: string, resolution: { text: string; at: number }): Promise<number> {
    const now = this.#o.clock.now() / 1000;
    return await this.#transaction(async (c) => {
      await c.query(`LOCK TABLE ${this.#table} IN SHARE ROW EXCLUSIVE MODE`);
      const h = (await c.query(`SELECT data FROM ${this.#history} WHERE key = $1 FOR UPDATE`, [key])).rows[0] as { data: BatchHistoryRow } | undefined;
      if (!h) throw new Error(`no finished batch "${key}"`);
      const row = h.data.row;
      const queued = (await c.query(`SELECT batch_no FROM ${this.#table} WHERE mo_id = $1`, [row.mo_id])).rows[0] as { batch_no: number } | undefined;
      if (queued) throw new Error(`${row.mo_id} is already queued (batch ${queued.batch_no})`);
      const next = num((await c.query<{ m: number }>(`SELECT coalesce(max(batch_no), 0) AS m FROM ${this.#table}`)).rows[0].m) + 1;
      const values = [next, row.mo_id, ...dataValues(row), now];
      await c.query(
        `INSERT INTO ${this.#table} (batch_no, mo_id, ${DATA_COLUMNS.join(', ')}, created_at, updated_at)
         VALUES (${values.slice(0, -1).map((_, i) => `$${i + 1}`).join(', ')}, to_timestamp($${values.length}), to_timestamp($${values.length}))`,
        values,
      );
      await c.query(`UPDATE ${this.#history} SET state = 'retried', resolution = $2, resolved_at = to_timestamp($3) WHERE key = $1`, [key, resolution.text, resolution.at]);
      return next;
    });
  }

  async remove(batchNo: number): Promise<void> {
    await this.#query(`DELETE FROM ${this.#table} WHERE batch_no = $1`, [batchNo]);
  }

  async clear(): Promise<number> {
    return (await this.#query(`DELETE FROM ${this.#table} RETURNING batch_no`)).length;
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = null;
    await pool?.end();
  }
}
