// The mo_batch queue in PostgreSQL, as the seed deployment keeps it so other systems can read it:
// the seed's columns (silo_a..m, component_silo_x_name, consumption_silo_x), one multi-row upsert per
// sync in one transaction (all or nothing). `pg` is imported only when a manifest selects a database.
import type { Pool, PoolClient } from 'pg';
import type { Clock } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import { type MoBatchRepository, type MoBatchRow, type NewMoBatch, SILO_LETTERS, type SiloLetter } from './batch-repo.ts';

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

export class PgMoBatchRepository implements MoBatchRepository {
  readonly description: string;
  readonly #o: PgMoBatchOptions;
  readonly #table: string;
  #pool: Pool | null = null;

  constructor(options: PgMoBatchOptions) {
    this.#o = options;
    this.#table = options.table ?? 'mo_batch';
    if (!/^[a-z_][a-z0-9_]*$/.test(this.#table)) throw new RangeError(`mo_batch table name "${this.#table}" must be a plain lower-case SQL identifier`);
    this.description = `mo_batch in ${describeDatabase(options.connectionString)}`;
  }

  async #getPool(): Promise<Pool> {
    if (this.#pool) return this.#pool;
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({
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
      for (const sql of createSql(this.#table)) await c.query(sql);
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

  async upsert(rows: NewMoBatch[]): Promise<{ inserted: number; updated: number }> {
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
      return { inserted: insertedMos, updated: rows.length - insertedMos };
    });
  }

  async markFinished(batchNo: number, result: { failed: boolean; actualWeight: number | null }): Promise<void> {
    await this.#query(
      `UPDATE ${this.#table} SET status_manufacturing = true, status_operation = $2, actual_weight_quantity_finished_goods = $3, updated_at = to_timestamp($4) WHERE batch_no = $1`,
      [batchNo, result.failed, result.actualWeight, this.#o.clock.now() / 1000],
    );
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
